<?php
/**
 * What WHMCS's usage billing meters for an isphooks service, as plain values (no WHMCS
 * usage-billing class here, so it loads and is tested anywhere): disk (GB, a snapshot),
 * bandwidth (GB per month) and the account's web domains, mail domains, mailboxes,
 * databases and FTP users (snapshots), from isphooks' `usage` with `counts`. Tenants are
 * keyed by the service's username, as WHMCS's usage billing matches them
 * (developers.whmcs.com/provisioning-modules/usage-metrics); an account is a service's
 * only by its marker (`service_id` = the WHMCS service on this server), never by its login
 * alone, which may be anyone's. A figure the panel does not report is left out, never sent
 * as 0.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/ServerFunctions.php';

use WHMCS\Database\Capsule;

final class MetricSource
{
    /** system name => [display name, type (snapshot | month), unit, usage field] */
    public const METRICS = [
        'diskusage' => ['Disk Usage', 'snapshot', 'gigabytes', 'disk_used_mib'],
        'bandwidthusage' => ['Bandwidth', 'month', 'gigabytes', 'traffic_used_mib'],
        'web_domains' => ['Web Domains', 'snapshot', 'domains', 'web_domains'],
        'mail_domains' => ['Mail Domains', 'snapshot', 'domains', 'mail_domains'],
        'mailboxes' => ['Mailboxes', 'snapshot', 'accounts', 'mailboxes'],
        'databases' => ['Databases', 'snapshot', 'databases', 'databases'],
        'ftp_users' => ['FTP Users', 'snapshot', 'accounts', 'ftp_users'],
    ];

    public function __construct(private readonly ServerFunctions $server, private readonly array $params)
    {
    }

    /** @return array<string, array<string, float|int>> username => system name => value */
    public function all(): array
    {
        $tenants = $this->tenants();
        $usage = [];
        foreach ($this->server->accounts($this->params, true) as $account) {
            $tenant = $tenants[(string) ($account['service_id'] ?? '')] ?? '';
            if ($tenant !== '') {
                $usage[$tenant] = self::values($account);
            }
        }
        return $usage;
    }

    /** @return array<string, float|int> system name => value for one username */
    public function tenant(string $username): array
    {
        $ids = array_map('strval', array_keys($this->tenants(), $username, true));
        if ($ids === []) {
            return []; // no WHMCS service of this server has that username
        }
        foreach ($this->server->accounts($this->params, true, $username) as $account) {
            if (in_array((string) ($account['service_id'] ?? ''), $ids, true)) {
                return self::values($account);
            }
        }
        return [];
    }

    /** @return array<string, string> WHMCS's services on this server: id => username (the tenant) */
    private function tenants(): array
    {
        $tenants = [];
        foreach (Capsule::table('tblhosting')->where('server', (int) ($this->params['serverid'] ?? 0))->get() as $row) {
            $tenants[(string) $row->id] = trim((string) ($row->username ?? ''));
        }
        return $tenants;
    }

    /** @return array<string, float|int> */
    public static function values(array $account): array
    {
        $values = [];
        foreach (self::METRICS as $name => [, , $unit, $field]) {
            $value = $account[$field] ?? null;
            if (!is_int($value) && !is_float($value)) {
                continue;
            }
            $values[$name] = $unit === 'gigabytes' ? round($value / 1024, 3) : (int) $value;
        }
        return $values;
    }
}
