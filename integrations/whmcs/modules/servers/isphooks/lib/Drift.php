<?php
/**
 * The daily drift report (the DailyCronJob hook in hooks.php): for each isphooks server,
 * WHMCS's Active and Suspended services on it — of both modules, with their product's
 * Package Name — go to isphooks' `reconcile` without `apply`. Each difference becomes one
 * activity-log line (with the service's client), and each server with differences one
 * To-Do item naming their count and the first ten (WHMCS's API has no call that adds a
 * To-Do item: it is a row of tbltodolist, with the fields UpdateToDoItem names). Text from
 * a panel is HTML-escaped. It never repairs: an admin does, with
 * the service's "Repair to WHMCS state" button or a reconcile with apply.
 *
 * Servers are grouped by their Username (the server's name in the isphooks config), so
 * that user and reseller services of one panel are compared in one reconcile: listed apart,
 * each kind's accounts would be the other's orphans. A server that cannot be read is one
 * activity-log line and does not stop the others; nor does one service isphooks would
 * refuse (a username outside its rule, such as `Legacy1`): it is one activity-log line
 * ("not compared: …") and the others are compared. The To-Do item of a server is updated
 * while it is open and its title (the count) is the same, not added again each day.
 * Nothing escapes into WHMCS's cron.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Module.php';

use WHMCS\Database\Capsule;

final class Drift
{
    public const KINDS = ['isphooks' => 'user', 'isphooks_reseller' => 'reseller'];
    public const TODO_TABLE = 'tbltodolist';
    public const TODO_FIRST = 10;
    /** What isphooks accepts in a reconcile's services (docs/interface.md §3, §8). */
    public const USERNAME_RULE = '/^[a-z_][a-z0-9_.-]{0,31}$/';
    public const TEMPLATE_RULE = '/^[\x20-\x7e]{1,64}$/';
    /** Reconciles sent for one server at most, each without the rows the last one refused. */
    private const ROUNDS = 3;

    /** The hook's entry: never lets anything escape into WHMCS's cron. */
    public static function daily(): void
    {
        try {
            foreach (self::servers() as $name => $group) {
                self::report($name, $group);
            }
        } catch (\Throwable $error) {
            self::log('drift report stopped: ' . get_class($error) . ': ' . Text::oneLine($error->getMessage()));
        }
    }

    /** @return array<string, list<object>> isphooks server name => its WHMCS server rows */
    private static function servers(): array
    {
        $groups = [];
        foreach (Capsule::table('tblservers')->whereIn('type', array_keys(self::KINDS))->orderBy('id')->get() as $row) {
            $name = trim((string) ($row->username ?? ''));
            if ($name !== '' && !(int) ($row->disabled ?? 0)) {
                $groups[$name][] = $row;
            }
        }
        return $groups;
    }

    /** @param list<object> $group */
    private static function report(string $name, array $group): void
    {
        try {
            [$services, $clients, $refused] = self::services($group);
            $params = self::params($group[0]);
            $module = (string) $group[0]->type === 'isphooks_reseller' ? Module::reseller() : Module::user();
            $gateway = new Gateway($module->name, $module->transport);
            for ($round = 1; ; $round++) {
                foreach ($refused as $id => $why) {
                    self::log('drift report: server ' . $name . ': service #' . $id . ' ('
                        . ($services[$id]['username'] ?? '') . ') not compared: ' . $why, $clients[$id] ?? 0);
                    unset($services[$id]);
                }
                try {
                    $answer = $gateway->request($params, 'reconcile',
                        ['server' => $name, 'services' => array_values($services)]);
                    break;
                } catch (IsphooksError $error) {
                    $refused = $round < self::ROUNDS ? self::refusedRows($error, array_keys($services)) : [];
                    if ($refused === []) {
                        throw $error;
                    }
                }
            }
        } catch (\Throwable $error) {
            $why = $error instanceof IsphooksError ? $error->whmcsMessage() : Text::oneLine($error->getMessage());
            self::log('drift report: server ' . $name . ' not compared: ' . $why);
            return;
        }
        $lines = [];
        foreach ((array) ($answer['differences'] ?? []) as $row) {
            if (!is_array($row)) {
                continue;
            }
            $line = 'server ' . $name . ': ' . self::describe($row);
            $lines[] = $line;
            $service = (string) ($row['service_id'] ?? '');
            self::log('drift: ' . $line, $clients[$service] ?? 0);
        }
        if ($lines !== []) {
            self::todo($name, $lines);
        }
    }

    /**
     * The rows a 400 of isphooks names (`services.N.<field>`), by service id, each with why:
     * what the validation above did not foresee still stops only those rows.
     *
     * @param list<int|string> $ids the service ids in the order they were sent
     * @return array<string, string>
     */
    private static function refusedRows(IsphooksError $error, array $ids): array
    {
        if ($error->httpStatus !== 400 || !preg_match_all('/\bservices\.(\d+)\.([a-z_]+)/', $error->getMessage(), $found,
            PREG_SET_ORDER)) {
            return [];
        }
        $refused = [];
        foreach ($found as [, $index, $field]) {
            if (isset($ids[(int) $index])) {
                $refused[(string) $ids[(int) $index]] = 'isphooks refuses its ' . $field . ' (' . $error->errorCode . ')';
            }
        }
        return $refused;
    }

    /**
     * @param list<object> $group
     * @return array{0: array<string, array<string, string>>, 1: array<string, int>, 2: array<string, string>}
     *         the services to list by service id, each one's client id, and those isphooks
     *         would refuse, with why
     */
    private static function services(array $group): array
    {
        $kinds = [];
        foreach (Capsule::table('tblproducts')->whereIn('servertype', array_keys(self::KINDS))->get() as $product) {
            $kinds[(int) $product->id] = [self::KINDS[(string) $product->servertype], trim((string) ($product->configoption1 ?? ''))];
        }
        $ids = array_map(fn (object $row): int => (int) $row->id, $group);
        $services = $clients = $refused = $seen = [];
        foreach (Capsule::table('tblhosting')->whereIn('server', $ids)
            ->whereIn('domainstatus', array_keys(AdminTab::STATES))->orderBy('id')->get() as $row) {
            [$kind, $template] = $kinds[(int) $row->packageid] ?? [null, ''];
            $username = trim((string) ($row->username ?? ''));
            if ($kind === null || $username === '' || isset($seen[$kind . ' ' . $username])) {
                continue; // not an isphooks product, no login yet, or a login listed already
            }
            $seen[$kind . ' ' . $username] = true;
            $id = (string) $row->id;
            $service = ['service_id' => $id, 'username' => $username, 'kind' => $kind,
                'state' => AdminTab::STATES[(string) $row->domainstatus]];
            if ($template !== '') {
                $service['template'] = $template;
            }
            $services[$id] = $service;
            $clients[$id] = (int) ($row->userid ?? 0);
            if (!preg_match(self::USERNAME_RULE, $username)) {
                $refused[$id] = 'isphooks refuses its username (lowercase letters, digits, _ . -, at most 32,'
                    . ' not starting with a digit, dot or hyphen)';
            } elseif ($template !== '' && !preg_match(self::TEMPLATE_RULE, $template)) {
                $refused[$id] = 'isphooks refuses its product\'s Package Name (printable ASCII, at most 64)';
            }
        }
        return [$services, $clients, $refused];
    }

    /** The module parameters of a server as WHMCS builds them: its password decrypted. */
    private static function params(object $server): array
    {
        $decrypted = localAPI('DecryptPassword', ['password2' => (string) ($server->password ?? '')]);
        if (($decrypted['result'] ?? '') !== 'success') {
            throw new SettingError('WHMCS could not decrypt the server Password');
        }
        return ['serverid' => (int) $server->id, 'serverusername' => (string) $server->username,
            'serverpassword' => (string) ($decrypted['password'] ?? ''),
            'serveraccesshash' => (string) ($server->accesshash ?? ''),
            'serverhostname' => (string) ($server->hostname ?? ''), 'serverip' => (string) ($server->ipaddress ?? ''),
            'serverport' => (string) ($server->port ?? ''), 'serversecure' => (string) ($server->secure ?? '')];
    }

    private static function describe(array $row): string
    {
        $service = (string) ($row['service_id'] ?? '');
        $who = 'service #' . $service . ' (' . (string) ($row['username'] ?? '') . ')';
        $billing = (array) ($row['billing'] ?? []);
        $panel = (array) ($row['panel'] ?? []);
        return $who . ': ' . match ((string) ($row['issue'] ?? '')) {
            'missing' => 'WHMCS has it ' . ($billing['state'] ?? '') . ', the panel has no such account',
            'orphaned' => 'the panel\'s account carries the marker of service #' . $service
                . ', which WHMCS has neither Active nor Suspended on this server',
            'state' => 'WHMCS has it ' . ($billing['state'] ?? '?') . ', the panel ' . ($panel['state'] ?? '?'),
            'template' => 'WHMCS\'s product says template ' . ($billing['template'] ?? '?') . ', the panel has '
                . ($panel['template'] ?? '?'),
            'foreign' => 'the login on the panel belongs to another service or login',
            'unmarked' => 'the account on the panel carries no isphooks marker (the old module\'s: "'
                . Module::ADOPT_BUTTON . '")',
            default => (string) ($row['issue'] ?? 'a difference'),
        };
    }

    /**
     * One To-Do item per server and difference set: the open item with the same title (the
     * server and the count) is brought up to date; else one is added.
     *
     * @param list<string> $lines
     */
    private static function todo(string $name, array $lines): void
    {
        $count = count($lines);
        $shown = array_slice($lines, 0, self::TODO_FIRST);
        $description = implode("\n", $shown)
            . ($count > self::TODO_FIRST ? "\n… and " . ($count - self::TODO_FIRST) . ' more in the activity log' : '')
            . "\n\nNothing was changed. Repair a service with its \"Repair to WHMCS state\" button.";
        $title = Text::html('isphooks: ' . $count . ' difference' . ($count === 1 ? '' : 's') . ' on server ' . $name);
        $item = ['description' => Text::html($description), 'duedate' => date('Y-m-d')];
        $open = Capsule::table(self::TODO_TABLE)->where('title', $title)->where('status', '!=', 'Completed')
            ->orderBy('id', 'desc')->first();
        if ($open !== null) {
            Capsule::table(self::TODO_TABLE)->where('id', $open->id)->update($item);
            return;
        }
        Capsule::table(self::TODO_TABLE)->insert(['date' => date('Y-m-d'), 'title' => $title, 'admin' => 0,
            'status' => 'Incomplete'] + $item);
    }

    private static function log(string $message, int $clientId = 0): void
    {
        if (function_exists('logActivity')) {
            logActivity(Text::html('isphooks ' . Text::oneLine($message)), $clientId);
        }
    }
}
