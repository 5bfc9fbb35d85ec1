<?php
/**
 * The server functions of the isphooks modules: Test Connection (`check`), Usage Update and
 * Server Sync (`usage`). Text from isphooks or a panel is HTML-escaped before WHMCS shows it.
 * Usage Update asks for the object counts too and keeps them for the client area
 * (UsageStore); an account is a service's only by its marker (`service_id`).
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Gateway.php';
require_once __DIR__ . '/Params.php';
require_once __DIR__ . '/Text.php';
require_once __DIR__ . '/UsageStore.php';

use WHMCS\Database\Capsule;
use WHMCS\Service\Status;

final class ServerFunctions
{
    public function __construct(private readonly Gateway $gateway, private readonly string $kind)
    {
    }

    public function testConnection(array $params): array
    {
        try {
            $server = Params::server($params);
            $report = $this->checkReport($params);
            if (!($report['ok'] ?? false)) {
                return ['success' => false, 'error' => Text::html('isphooks check: ' . $server . ': '
                    . IsphooksError::oneLine((string) ($report['error'] ?? 'not reachable')))];
            }
            $edition = (string) ($report['edition'] ?? '');
            if ($this->kind === 'reseller' && !in_array($edition, ['host', 'business'], true)) {
                return ['success' => false, 'error' => Text::html('isphooks check: ' . $server . ' is the '
                    . $edition . ' edition, which has no resellers (host or business needed)')];
            }
            return ['success' => true, 'error' => ''];
        } catch (\Throwable $error) {
            return ['success' => false, 'error' => $this->gateway->failure($params, 'check', $error)];
        }
    }

    /** `check` of this server: its entry of the answer (Test Connection, the server page). */
    public function checkReport(array $params): array
    {
        $server = Params::server($params);
        return self::serverReport($this->gateway->request($params, 'check', ['server' => $server]), $server);
    }

    /** Disk and traffic of this server's accounts into tblhosting, as WHMCS's own sample does,
     *  and their object counts into the module's table. */
    public function usageUpdate(array $params): string
    {
        return $this->gateway->guard($params, 'usage', function () use ($params): string {
            $serverId = (int) ($params['serverid'] ?? 0);
            UsageStore::ensure();
            foreach ($this->accounts($params, true) as $account) {
                // Only by the account's marker: a login alone can be anyone's (a reseller's
                // customer, a name made by hand), and its usage is no WHMCS service's. An
                // old module's account counts once it is adopted.
                $serviceId = (string) ($account['service_id'] ?? '');
                $id = ctype_digit($serviceId) ? (int) Capsule::table('tblhosting')->where('server', $serverId)
                    ->where('id', (int) $serviceId)->value('id') : 0;
                if ($id <= 0) {
                    continue; // not marked as a service of this server in WHMCS
                }
                Capsule::table('tblhosting')->where('id', $id)->update([
                    'diskusage' => (int) ($account['disk_used_mib'] ?? 0),
                    'disklimit' => (int) ($account['disk_limit_mib'] ?? 0),
                    'bwusage' => (int) ($account['traffic_used_mib'] ?? 0),
                    'bwlimit' => (int) ($account['traffic_limit_mib'] ?? 0),
                    'lastupdate' => Capsule::raw('now()'),
                ]);
                UsageStore::write($id, $account, date('Y-m-d H:i:s'));
            }
            return 'success';
        });
    }

    /** For WHMCS's Server Sync tool: each account's template as its package, so that WHMCS
     *  matches the product by its Package Name. isphooks reports no domain or creation date. */
    public function listAccounts(array $params): array
    {
        try {
            $accounts = [];
            foreach ($this->accounts($params) as $account) {
                $username = Text::html((string) $account['username']);
                $accounts[] = [
                    'email' => '',
                    'username' => $username,
                    'domain' => '',
                    'uniqueIdentifier' => $username,
                    'product' => Text::html((string) ($account['template'] ?? '')),
                    'primaryip' => '',
                    'created' => '',
                    'status' => ($account['suspended'] ?? false) ? Status::SUSPENDED : Status::ACTIVE,
                ];
            }
            return ['success' => true, 'accounts' => $accounts];
        } catch (\Throwable $error) {
            return ['success' => false, 'error' => $this->gateway->failure($params, 'usage', $error)];
        }
    }

    /** @return list<array<string, mixed>> this module's kind of accounts on this server (one,
     *  with `username`), with their object counts when asked */
    public function accounts(array $params, bool $counts = false, ?string $username = null): array
    {
        $server = Params::server($params);
        $body = ['server' => $server] + ($counts ? ['counts' => true] : [])
            + ($username !== null ? ['username' => $username] : []);
        $report = self::serverReport($this->gateway->request($params, 'usage', $body), $server);
        if (($report['error'] ?? null) !== null) {
            throw new IsphooksError('usage', $server . ': ' . (string) $report['error'], true);
        }
        $accounts = [];
        foreach ((array) ($report['accounts'] ?? []) as $account) {
            if (is_array($account) && ($account['kind'] ?? $this->kind) === $this->kind) {
                $accounts[] = $account;
            }
        }
        return $accounts;
    }

    public static function serverReport(array $answer, string $server): array
    {
        foreach ((array) ($answer['servers'] ?? []) as $report) {
            if (is_array($report) && ($report['server'] ?? null) === $server) {
                return $report;
            }
        }
        throw new IsphooksError('bad_response', 'the answer does not report server ' . $server, false);
    }
}
