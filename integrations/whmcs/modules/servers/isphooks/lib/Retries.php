<?php
/**
 * Failed actions retry themselves while WHMCS still wants them (the AfterCronJob hook in
 * hooks.php). WHMCS keeps a failed automation call in its module queue and never retries
 * it by itself; isphooks makes every action safe to retry, so the hook does:
 *
 * - each incomplete queue row of isphooks and isphooks_reseller is retried through WHMCS's
 *   own local API (ModuleCreate, ModuleSuspend, …), so that WHMCS updates the service
 *   status and resolves the row as an admin's Retry would; the module's call carries the
 *   row's `created_at` as `event_time` (Queue::decisionTime), so isphooks supersedes it if
 *   a newer decision reached the account meanwhile;
 * - backoff per row from `last_attempt` and `num_retries`: 5 min, doubling, at most 6 h;
 *   at most 20 rows per cron run, and none started after 60 s;
 * - guards: the service (and its invoices) is read again first, and a row WHMCS no longer
 *   wants is resolved with an activity-log line saying why — Create only while Pending,
 *   Suspend only while Active and still overdue, Unsuspend only while Suspended and not
 *   overdue, Change Package / Change Password unless Terminated or Cancelled;
 * - Terminate is never retried here (deleting data waits for a person), and a row failing
 *   for 24 h is left for the admin, with one activity-log line.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Client.php';
require_once __DIR__ . '/Queue.php';
require_once __DIR__ . '/Text.php';

use WHMCS\Database\Capsule;

final class Retries
{
    public const MAX_ROWS = 20;
    public const MAX_SECONDS = 60;
    public const FIRST_DELAY_S = 300;
    public const MAX_DELAY_S = 6 * 3600;
    public const GIVE_UP_S = 24 * 3600;
    public const COMMANDS = ['CreateAccount' => 'ModuleCreate', 'SuspendAccount' => 'ModuleSuspend',
        'UnsuspendAccount' => 'ModuleUnsuspend', 'ChangePackage' => 'ModuleChangePackage',
        'ChangePassword' => 'ModuleChangePw'];

    /** The hook's entry: never lets anything escape into WHMCS's cron. */
    public static function afterCron(): void
    {
        try {
            self::run(time());
        } catch (\Throwable $error) {
            self::log('automatic retries stopped: ' . get_class($error) . ': '
                . Text::html(Text::oneLine($error->getMessage())));
        }
    }

    public static function run(int $now): void
    {
        $started = microtime(true);
        $rows = Capsule::table(Queue::TABLE)->whereIn('module_name', Queue::MODULES)
            ->where('service_type', 'service')->where('completed', 0)->orderBy('last_attempt')->get();
        $tried = 0;
        foreach ($rows as $row) {
            if ($tried >= self::MAX_ROWS || microtime(true) - $started >= self::MAX_SECONDS) {
                break;
            }
            $command = self::COMMANDS[(string) $row->module_action] ?? null;
            if ($command === null) {
                continue; // TerminateAccount and anything else: the admin's
            }
            $created = Queue::timestamp($row->created_at ?? null);
            if ($created !== null && $now - $created >= self::GIVE_UP_S) {
                self::leaveToAdmin($row);
                continue;
            }
            if (!self::due($row, $now)) {
                continue;
            }
            try {
                $service = self::service((int) $row->service_id);
                $why = $service === null ? 'the service no longer exists'
                    : self::unwanted((string) $row->module_action, $service);
            } catch (\Throwable $error) {
                self::log(self::what($row) . ' not retried now: cannot tell whether WHMCS still wants it ('
                    . Text::html(Text::oneLine($error->getMessage())) . ')');
                continue;
            }
            if ($why !== null) {
                Queue::resolve($row);
                self::log(self::what($row) . ' not retried, and resolved: ' . $why);
                continue;
            }
            $tried++;
            self::retry($row, $command, $service, $now);
        }
    }

    /** When the next automatic try of a row is due: 5 min after its last attempt, doubling
     *  with each retry, at most 6 h. */
    public static function nextTry(object $row): ?int
    {
        $last = Queue::timestamp($row->last_attempt ?? null) ?? Queue::timestamp($row->created_at ?? null);
        if ($last === null) {
            return null;
        }
        $retries = max(0, min(16, (int) ($row->num_retries ?? 0)));
        return $last + min(self::FIRST_DELAY_S * (2 ** $retries), self::MAX_DELAY_S);
    }

    private static function due(object $row, int $now): bool
    {
        $next = self::nextTry($row);
        return $next === null || $now >= $next;
    }

    /** Why WHMCS no longer wants this action, or null when it still does. */
    public static function unwanted(string $action, array $service): ?string
    {
        $status = (string) ($service['status'] ?? '');
        switch ($action) {
            case 'CreateAccount':
                return $status === 'Pending' ? null : "the service is $status, no longer Pending";
            case 'SuspendAccount':
                if ($status !== 'Active') {
                    return "the service is $status, no longer Active";
                }
                return self::overdue($service) ? null
                    : 'no unpaid invoice of the service is past its due date any more (paid in between)';
            case 'UnsuspendAccount':
                if ($status !== 'Suspended') {
                    return "the service is $status, no longer Suspended";
                }
                return self::overdue($service) ? 'an invoice of the service is overdue again' : null;
            default: // ChangePackage, ChangePassword
                return in_array($status, ['Terminated', 'Cancelled'], true) ? "the service is $status" : null;
        }
    }

    /** The service as WHMCS holds it now (GetClientsProducts), or null when it is gone. */
    private static function service(int $serviceId): ?array
    {
        $answer = localAPI('GetClientsProducts', ['serviceid' => $serviceId]);
        if (($answer['result'] ?? '') !== 'success') {
            throw new \RuntimeException('GetClientsProducts: ' . (string) ($answer['message'] ?? 'no answer'));
        }
        foreach ((array) ($answer['products']['product'] ?? []) as $product) {
            if (is_array($product) && (int) ($product['id'] ?? 0) === $serviceId) {
                return $product;
            }
        }
        return null;
    }

    /** Does the service have an unpaid invoice item past its due date (GetInvoices, GetInvoice)? */
    private static function overdue(array $service): bool
    {
        $serviceId = (int) $service['id'];
        $answer = localAPI('GetInvoices', ['userid' => (int) ($service['clientid'] ?? 0), 'status' => 'Unpaid',
            'limitnum' => 250]);
        if (($answer['result'] ?? '') !== 'success') {
            throw new \RuntimeException('GetInvoices: ' . (string) ($answer['message'] ?? 'no answer'));
        }
        $today = date('Y-m-d');
        foreach ((array) ($answer['invoices']['invoice'] ?? []) as $invoice) {
            if (!is_array($invoice) || (string) ($invoice['duedate'] ?? '9999') >= $today) {
                continue;
            }
            $detail = localAPI('GetInvoice', ['invoiceid' => (int) $invoice['id']]);
            foreach ((array) ($detail['items']['item'] ?? []) as $item) {
                if (is_array($item) && (int) ($item['relid'] ?? 0) === $serviceId
                    && (string) ($item['type'] ?? '') === 'Hosting') {
                    return true;
                }
            }
        }
        return false;
    }

    private static function retry(object $row, string $command, array $service, int $now): void
    {
        $values = ['serviceid' => (int) $row->service_id];
        if ($command === 'ModuleSuspend') {
            $values['suspendreason'] = self::suspendReason((int) $row->service_id);
        }
        $result = localAPI($command, $values);
        $ok = ($result['result'] ?? '') === 'success';
        $after = Queue::reread($row);
        if ($ok && $after !== null && (int) $after->completed === 0) {
            Queue::resolve($after); // WHMCS resolves it itself; this covers one that did not
        } elseif (!$ok && $after !== null && (string) $after->last_attempt === (string) $row->last_attempt) {
            // WHMCS did not count this attempt: count it here, so that the backoff holds.
            Capsule::table(Queue::TABLE)->where('id', $row->id)->update(['last_attempt' => date('Y-m-d H:i:s', $now),
                'num_retries' => (int) $row->num_retries + 1,
                'last_attempt_error' => (string) ($result['message'] ?? '')]);
        }
        self::log(self::what($row) . ($ok ? ' retried automatically: success'
            : ' retried automatically and failed again: ' . Text::oneLine((string) ($result['message'] ?? 'no answer'))));
    }

    private static function suspendReason(int $serviceId): string
    {
        try {
            return (string) (Capsule::table('tblhosting')->where('id', $serviceId)->value('suspendreason') ?? '');
        } catch (\Throwable) {
            return '';
        }
    }

    /** One activity-log line per row, the first time it is found failing for 24 h. */
    private static function leaveToAdmin(object $row): void
    {
        $line = self::what($row) . ' has failed for 24 hours: automatic retries stopped; it waits for an'
            . ' administrator (Utilities > Module Queue)';
        try {
            if (Capsule::table('tblactivitylog')->where('description', 'isphooks: ' . $line)->count() > 0) {
                return;
            }
        } catch (\Throwable) {
            return; // without the log to look in, better silent than a line every cron run
        }
        self::log($line);
    }

    private static function what(object $row): string
    {
        return 'queued ' . (string) $row->module_action . ' of service #' . (int) $row->service_id
            . ' (' . (string) $row->module_name . ', queue row #' . (int) $row->id . ')';
    }

    private static function log(string $line): void
    {
        if (function_exists('logActivity')) {
            logActivity('isphooks: ' . $line);
        }
    }
}
