<?php
/**
 * The client area of an isphooks service (ClientArea, developers.whmcs.com/
 * provisioning-modules/client-area-output): templates/clientarea.tpl with disk and
 * traffic against their limits (WHMCS's stored usage in tblhosting), the account's objects
 * against the plan's limits (UsageStore, written by Usage Update), and a "log in to" button
 * per panel page. No panel call per page view; the buttons are hidden while the service is
 * not Active; every value is escaped by the template.
 *
 * A button opens WHMCS's single sign-on of the service (clientarea.php?action=
 * productdetails&id=…&dosinglesignon=1) with an `app`: ServiceSingleSignOn maps it to
 * isphooks' `sso` `page` (docs/interface.md §10). An `app` not listed here logs in to the
 * panel's dashboard, as without one.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Plan.php';
require_once __DIR__ . '/Text.php';
require_once __DIR__ . '/UsageStore.php';

use WHMCS\Database\Capsule;

final class ClientArea
{
    public const TEMPLATE = 'templates/clientarea';
    /** `app` => [isphooks `sso` page, button label] */
    public const APPS = [
        'webdomains' => ['webdomain', 'Web domains'],
        'maildomains' => ['emaildomain', 'Mail domains'],
        'mail' => ['email', 'Mailboxes'],
        'databases' => ['db', 'Databases'],
        'filemanager' => ['file', 'File manager'],
        'ftp' => ['ftp.user', 'FTP users'],
        'dns' => ['domain', 'DNS'],
        'ssl' => ['sslcert', 'SSL certificates'],
        'cron' => ['scheduler', 'Cron jobs'],
        'backups' => ['backup2.list', 'Backups'],
    ];
    /** usage count field (also the plan.limits field of its limit) => label */
    private const OBJECTS = ['web_domains' => 'Web domains', 'mail_domains' => 'Mail domains',
        'mailboxes' => 'Mailboxes', 'databases' => 'Databases', 'ftp_users' => 'FTP users'];

    /** The `sso` page of a single sign-on request's `app` (WHMCS passes the query's `app`
     *  on; read from the parameters, else from the request), or null for the dashboard. */
    public static function page(array $params): ?string
    {
        $app = $params['app'] ?? $_REQUEST['app'] ?? '';
        $app = is_string($app) ? strtolower(trim($app)) : '';
        return self::APPS[$app][0] ?? null;
    }

    public static function output(array $params, string $kind): array
    {
        try {
            $vars = self::vars($params, $kind);
        } catch (\Throwable $error) {
            $vars = ['error' => 'Usage is not available right now ('
                . Text::oneLine(get_class($error)) . '); your hosting is not affected.'];
        }
        return ['templatefile' => self::TEMPLATE, 'vars' => ['isphooks' => $vars]];
    }

    /** @return array<string, mixed> what the template shows, as plain values */
    public static function vars(array $params, string $kind): array
    {
        $serviceId = (int) ($params['serviceid'] ?? 0);
        $row = Capsule::table('tblhosting')->where('id', $serviceId)->first();
        $meters = [
            self::meter('Disk', self::mib($row->diskusage ?? null), self::mib($row->disklimit ?? null), 'MiB'),
            self::meter('Traffic this month', self::mib($row->bwusage ?? null), self::mib($row->bwlimit ?? null), 'MiB'),
        ];
        $counts = UsageStore::read($serviceId);
        $limits = self::limits($params, $kind);
        foreach (self::OBJECTS as $field => $label) {
            $used = $counts[$field] ?? null;
            if (is_int($used)) {
                $meters[] = self::meter($label, $used, $limits[$field] ?? null, '');
            }
        }
        $status = (string) ($params['status'] ?? '');
        $buttons = [];
        if ($status === 'Active') {
            foreach (self::APPS as $app => [, $label]) {
                $buttons[] = ['label' => $label, 'url' => 'clientarea.php?action=productdetails&id='
                    . $serviceId . '&dosinglesignon=1&app=' . rawurlencode($app)];
            }
        }
        $updated = (string) ($row->lastupdate ?? '');
        return [
            'error' => '',
            'meters' => $meters,
            'updated' => $updated !== '' && !str_starts_with($updated, '0000') ? 'Usage as of ' . $updated : '',
            'suspended' => $status === 'Active' ? ''
                : 'This service is ' . ($status !== '' ? strtolower($status) : 'not active')
                    . ': the control panel logins are available again once it is active.',
            'buttons' => $buttons,
        ];
    }

    /** @return array<string, int> the plan's limits (product settings and configurable options) */
    private static function limits(array $params, string $kind): array
    {
        try {
            return Plan::fromParams($params, $kind, false)['limits'] ?? [];
        } catch (SettingError) {
            return []; // a product setting to fix: the admin sees it on every action
        }
    }

    private static function mib(mixed $value): ?int
    {
        return is_numeric($value) && (int) $value >= 0 ? (int) $value : null;
    }

    /** A row of the usage table; a limit of 0 or none is shown as no limit (WHMCS stores 0 for
     *  "unlimited" and for "not known"). */
    private static function meter(string $label, ?int $used, ?int $limit, string $unit): array
    {
        $suffix = $unit !== '' ? ' ' . $unit : '';
        $hasLimit = $limit !== null && $limit > 0;
        $percent = $hasLimit && $used !== null ? (int) min(100, round($used * 100 / $limit)) : 0;
        return [
            'label' => $label,
            'used' => $used === null ? 'not reported' : number_format($used) . $suffix,
            'limit' => $hasLimit ? number_format($limit) . $suffix : '',
            'bar' => $hasLimit && $used !== null,
            'percent' => (string) $percent,
            'full' => $percent >= 90,
        ];
    }
}
