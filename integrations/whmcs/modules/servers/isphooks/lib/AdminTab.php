<?php
/**
 * The admin's view of one service (AdminServicesTabFields, developers.whmcs.com/
 * provisioning-modules/admin-services-tab): the live account from isphooks' `status` —
 * exists, ours or whose marker, owner, state, template and limits against the product's,
 * the decisions its record holds — and the buttons behind it (AdminCustomButtonArray):
 * Check (the same reading, as a verdict) and Repair to WHMCS state (`reconcile` of this one
 * service with `apply`, decided now). A panel or isphooks that does not answer shows why,
 * never a PHP error. Every value shown is HTML-escaped.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Gateway.php';
require_once __DIR__ . '/Params.php';
require_once __DIR__ . '/Plan.php';
require_once __DIR__ . '/Text.php';

final class AdminTab
{
    /** WHMCS's service status → the state isphooks keeps the account in. */
    public const STATES = ['Active' => 'active', 'Suspended' => 'suspended'];
    private const LIMIT_LABELS = ['disk_mib' => 'Disk (MiB)', 'traffic_mib' => 'Traffic (MiB)',
        'databases' => 'Databases', 'database_users' => 'Database users', 'ftp_users' => 'FTP users',
        'web_domains' => 'Web domains', 'mail_domains' => 'Mail domains', 'mailboxes' => 'Mailboxes',
        'mailbox_quota_mib' => 'Mailbox quota (MiB)', 'memory_mib' => 'Memory (MiB)',
        'cpu_time' => 'CPU time', 'processes' => 'Processes', 'users' => 'Users',
        'ipv4_addresses' => 'IPv4 addresses', 'ipv6_addresses' => 'IPv6 addresses'];

    public function __construct(private readonly Gateway $gateway, private readonly string $kind)
    {
    }

    /** @return array<string, string> label => HTML */
    public function fields(array $params): array
    {
        try {
            $status = $this->status($params);
        } catch (\Throwable $error) {
            return ['ISPmanager account' => 'Not available: ' . $this->gateway->failure($params, 'status', $error)];
        }
        $h = fn (string $text): string => Text::html($text);
        $name = (string) ($status['username'] ?? '') . ' on ' . (string) ($status['server'] ?? '');
        if (!($status['exists'] ?? false)) {
            return ['ISPmanager account' => $h($name . ': no such account on the panel'),
                'WHMCS and the panel' => $h($this->verdict($params, $status))];
        }
        $recorded = [];
        foreach (['state' => 'state', 'template' => 'template', 'password' => 'password'] as $key => $label) {
            $entry = $status['recorded'][$key] ?? null;
            if (is_array($entry)) {
                $recorded[] = $h($label . (isset($entry['value']) ? ' ' . $entry['value'] : ' set') . ' at '
                    . self::time((int) ($entry['at'] ?? 0)));
            }
        }
        return [
            'ISPmanager account' => $h($name . ': ' . self::state($status['active'] ?? null)),
            'Ownership' => $h(self::ownership($status, $params)),
            'Template' => $h(self::template($status, $params)),
            'Limits' => $this->limitsTable($status, $params),
            'Recorded decisions' => $recorded !== [] ? implode('<br>', $recorded)
                : $h('none recorded (made before event times, or by hand)'),
            'WHMCS and the panel' => $h($this->verdict($params, $status)),
        ];
    }

    /** The Check button: "success" when the account is this service's and as WHMCS has it. */
    public function check(array $params): string
    {
        return $this->gateway->guard($params, 'status', function () use ($params): string {
            $issues = $this->issues($params, $this->status($params));
            return $issues === [] ? 'success' : Text::html('isphooks check: ' . implode('; ', $issues));
        });
    }

    /** What the last successful Repair of each service did in this process, in words: a
     *  custom button answers WHMCS only "success", and the retries' activity-log line says
     *  what was done (Retries::settle). */
    private static array $lastRepair = [];

    public static function lastRepair(int $serviceId): ?string
    {
        return self::$lastRepair[$serviceId] ?? null;
    }

    /**
     * The Repair button: the account's state to WHMCS's, as a reconcile of this one service
     * with `apply` decided now (a newer decision recorded on the account still stands).
     * "success" only when the answer shows the service in sync (no row of it among the
     * differences) or its difference repaired. The AfterCronJob retries run it too (through
     * WHMCS's ModuleCustom) before they resolve a queue row WHMCS no longer wants.
     */
    public function repair(array $params): string
    {
        unset(self::$lastRepair[(int) ($params['serviceid'] ?? 0)]);
        return $this->gateway->guard($params, 'reconcile', function () use ($params): string {
            $wanted = self::STATES[(string) ($params['status'] ?? '')] ?? null;
            if ($wanted === null) {
                return Text::html('isphooks: the service is ' . ($params['status'] ?? 'without a status')
                    . ' in WHMCS; only an Active or Suspended service is repaired to its state');
            }
            $service = Params::account($params, $this->kind) + ['state' => $wanted];
            unset($service['server']);
            $template = trim((string) ($params['configoption1'] ?? ''));
            if ($template !== '') {
                $service['template'] = $template;
            }
            $answer = $this->gateway->request($params, 'reconcile',
                ['server' => Params::server($params), 'services' => [$service], 'apply' => true]);
            $id = (int) $params['serviceid'];
            foreach ((array) ($answer['differences'] ?? []) as $row) {
                if (is_array($row) && ($row['service_id'] ?? null) === $service['service_id']) {
                    $result = self::repaired($row);
                    if ($result === 'success') {
                        self::$lastRepair[$id] = 'the panel was repaired to the WHMCS state (account set ' . $wanted . ')';
                    }
                    return $result;
                }
            }
            self::$lastRepair[$id] = 'the panel already matched WHMCS (account ' . $wanted . ')';
            return 'success'; // in sync
        });
    }

    private function status(array $params): array
    {
        return $this->gateway->request($params, 'status', Params::account($params, $this->kind));
    }

    private static function repaired(array $row): string
    {
        $issue = (string) ($row['issue'] ?? '');
        if (($row['repaired'] ?? false) === true) {
            return 'success';
        }
        $why = match ($issue) {
            'state' => isset($row['superseded_by'])
                ? 'a newer decision about its state stands on the panel (made '
                    . self::time((int) $row['superseded_by']) . '); nothing was changed'
                : (($row['changed_meanwhile'] ?? false) ? 'the account changed while it was being repaired '
                    . '(gone, or no longer this service\'s): nothing was changed; Check shows it now'
                    : 'its state was not repaired'),
            'missing' => 'there is no such account on the panel: run Create',
            'template' => 'its template differs from the product\'s: Change Package applies the product\'s',
            'foreign' => 'the account belongs to another service or login: nothing was changed',
            'unmarked' => 'the account carries no isphooks marker: adopt it with the "' . Module::ADOPT_BUTTON
                . '" button first',
            default => 'reconcile reported ' . $issue,
        };
        return Text::html('isphooks repair: ' . Text::oneLine($why));
    }

    /** @return list<string> what differs between WHMCS and the panel, in words */
    private function issues(array $params, array $status): array
    {
        if (!($status['exists'] ?? false)) {
            return ['there is no such account on the panel'];
        }
        $issues = [];
        if (!($status['ours'] ?? false)) {
            $issues[] = self::ownership($status, $params);
        }
        $wanted = self::STATES[(string) ($params['status'] ?? '')] ?? null;
        $active = $status['active'] ?? null;
        if ($wanted !== null && is_bool($active) && ($active ? 'active' : 'suspended') !== $wanted) {
            $issues[] = 'WHMCS has the service ' . $wanted . ', the panel has the account '
                . ($active ? 'active' : 'suspended') . ' (Repair to WHMCS state sets it)';
        }
        $product = trim((string) ($params['configoption1'] ?? ''));
        if ($product !== '' && ($status['template'] ?? null) !== null && $status['template'] !== $product) {
            $issues[] = 'the panel\'s template is ' . $status['template'] . ', the product\'s ' . $product;
        }
        return $issues;
    }

    private function verdict(array $params, array $status): string
    {
        $issues = $this->issues($params, $status);
        return $issues === [] ? 'in agreement' : implode('; ', $issues);
    }

    private static function state(mixed $active): string
    {
        return match ($active) {
            true => 'active', false => 'suspended',
            default => 'state not shown by the panel',
        };
    }

    private static function ownership(array $status, array $params): string
    {
        $marker = $status['marker'] ?? null;
        $owner = $status['owner'] ?? null;
        if ($status['ours'] ?? false) {
            return 'this service\'s (marker ' . $marker . ')' . ($owner !== null ? ', owned by ' . $owner : '');
        }
        if ($marker === null) {
            return 'carries no isphooks marker (an account made by the old module or by hand: "'
                . Module::ADOPT_BUTTON . '" makes it this service\'s)';
        }
        if ((string) $marker !== (string) ($params['serviceid'] ?? '')) {
            return 'carries the marker of service ' . $marker . ', not of this one';
        }
        return 'carries this service\'s marker but belongs to ' . ($owner ?? 'a login the panel does not show')
            . ', not to the configured login';
    }

    private static function template(array $status, array $params): string
    {
        $template = $status['template'] ?? null;
        $product = trim((string) ($params['configoption1'] ?? ''));
        $text = $template !== null ? (string) $template : 'not shown by the panel';
        if ($product !== '' && $template !== null) {
            $text .= $template === $product ? ' (as the product)' : ' (the product says ' . $product . ')';
        }
        return $text;
    }

    private function limitsTable(array $status, array $params): string
    {
        try {
            $product = Plan::fromParams($params, $this->kind, false)['limits'] ?? [];
        } catch (SettingError) {
            $product = [];
        }
        $rows = '';
        foreach ((array) ($status['limits'] ?? []) as $field => $value) {
            $label = self::LIMIT_LABELS[$field] ?? (string) $field;
            $panel = $value === null ? 'unlimited' : (string) $value;
            $wanted = isset($product[$field]) ? (string) $product[$field] : 'from the template';
            $mark = isset($product[$field]) && $product[$field] !== $value ? ' ≠' : '';
            $rows .= '<tr><td>' . Text::html($label) . '</td><td>' . Text::html($panel) . '</td><td>'
                . Text::html($wanted . $mark) . '</td></tr>';
        }
        return '<table class="table table-condensed"><tr><th>Limit</th><th>Panel</th><th>Product</th></tr>'
            . $rows . '</table>';
    }

    private static function time(int $ms): string
    {
        return $ms > 0 ? gmdate('Y-m-d H:i:s', intdiv($ms, 1000)) . ' UTC' : 'an unknown time';
    }
}
