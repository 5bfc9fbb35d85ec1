<?php
/**
 * The server page of WHMCS (Configuration > Servers): the account count and what isphooks'
 * `check` tells of the panel. WHMCS's developer documentation does not describe what
 * GetUserCount, GetRemoteMetaData and RenderRemoteMetaData return (its docs issue #152 asks
 * and is open): the keys here (`success`, `totalAccounts`, `ownedAccounts`, `metaData`,
 * `error`) are this module's choice, and RenderRemoteMetaData reads the metadata back in
 * whichever form WHMCS hands it over (an array, JSON, an object). Text from isphooks or a
 * panel is HTML-escaped.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Gateway.php';
require_once __DIR__ . '/Params.php';
require_once __DIR__ . '/ServerFunctions.php';
require_once __DIR__ . '/Text.php';

use WHMCS\Database\Capsule;

final class ServerPage
{
    public function __construct(private readonly Gateway $gateway, private readonly ServerFunctions $server,
        private readonly string $module, private readonly string $kind)
    {
    }

    /** The panel's accounts of this module's kind, and WHMCS's live services on the server. */
    public function userCount(array $params): array
    {
        try {
            $report = $this->check($params);
            $total = $report['accounts'][$this->kind] ?? null;
            if (!is_int($total)) {
                throw new IsphooksError('bad_response', 'check reported no ' . $this->kind . ' accounts', false);
            }
            return ['success' => true, 'totalAccounts' => $total, 'ownedAccounts' => $this->owned($params)];
        } catch (\Throwable $error) {
            return ['success' => false, 'error' => $this->gateway->failure($params, 'check', $error)];
        }
    }

    /** What WHMCS keeps for the server page (and hands back to RenderRemoteMetaData). */
    public function remoteMetaData(array $params): array
    {
        try {
            $report = $this->check($params);
            return ['success' => true, 'metaData' => [
                'edition' => (string) ($report['edition'] ?? ''),
                'version' => is_string($report['version'] ?? null) ? $report['version'] : null,
                'accounts' => is_array($report['accounts'] ?? null) ? $report['accounts'] : [],
                'level' => is_int($report['level'] ?? null) ? $report['level'] : null,
                'latency_ms' => is_numeric($report['latency_ms'] ?? null) ? (float) $report['latency_ms'] : null,
                'warning' => is_string($report['warning'] ?? null) ? $report['warning'] : null,
                'checked_at' => gmdate('Y-m-d H:i:s') . ' UTC',
            ]];
        } catch (\Throwable $error) {
            return ['success' => false, 'error' => $this->gateway->failure($params, 'check', $error)];
        }
    }

    /** The stored metadata as HTML: taken as an array, as JSON, or as an object carrying it. */
    public static function render(array $params): string
    {
        $data = self::metaData($params['remoteData'] ?? null);
        if ($data === null) {
            return Text::html('isphooks: not checked yet');
        }
        $accounts = [];
        foreach ((array) ($data['accounts'] ?? []) as $kind => $count) {
            if (is_int($count)) {
                $accounts[] = $count . ' ' . $kind . ($count === 1 ? '' : 's');
            }
        }
        $lines = [
            'ISPmanager ' . ($data['edition'] ?? '?') . ', version '
                . (is_string($data['version'] ?? null) ? $data['version'] : 'not reported by the panel'),
            'Accounts: ' . ($accounts !== [] ? implode(', ', $accounts) : 'none'),
        ];
        if (is_numeric($data['latency_ms'] ?? null)) {
            $lines[] = 'Answered in ' . round((float) $data['latency_ms']) . ' ms';
        }
        if (is_string($data['warning'] ?? null) && $data['warning'] !== '') {
            $lines[] = 'Warning: ' . $data['warning'];
        }
        if (is_string($data['checked_at'] ?? null)) {
            $lines[] = 'Checked ' . $data['checked_at'];
        }
        return implode('<br>', array_map(fn (string $line): string => Text::html(Text::oneLine($line)), $lines));
    }

    private static function metaData(mixed $remote): ?array
    {
        if (is_object($remote)) {
            $remote = $remote->metaData ?? (array) $remote;
        }
        if (is_string($remote)) {
            $remote = json_decode($remote, true);
        }
        if (is_array($remote) && is_array($remote['metaData'] ?? null)) {
            $remote = $remote['metaData'];
        }
        return is_array($remote) && $remote !== [] ? $remote : null;
    }

    private function check(array $params): array
    {
        $report = $this->server->checkReport($params);
        if (!($report['ok'] ?? false)) {
            throw new IsphooksError('check_failed', Params::server($params) . ': '
                . (string) ($report['error'] ?? 'not reachable'), true);
        }
        return $report;
    }

    /** WHMCS's Active and Suspended services of this module on the server. */
    private function owned(array $params): int
    {
        $ids = [];
        foreach (Capsule::table('tblproducts')->where('servertype', $this->module)->get() as $product) {
            $ids[] = (int) $product->id;
        }
        if ($ids === []) {
            return 0;
        }
        return Capsule::table('tblhosting')->where('server', (int) ($params['serverid'] ?? 0))
            ->whereIn('packageid', $ids)->whereIn('domainstatus', ['Active', 'Suspended'])->count();
    }
}
