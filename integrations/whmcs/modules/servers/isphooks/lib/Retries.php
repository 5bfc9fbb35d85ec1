<?php
/**
 * Failed actions retry themselves while WHMCS still wants them (the AfterCronJob hook in
 * hooks.php). WHMCS keeps a failed automation call in its module queue and never retries
 * it by itself; isphooks makes every action safe to retry, so the hook does:
 *
 * - each incomplete queue row of isphooks and isphooks_reseller is retried through WHMCS's
 *   own local API (ModuleCreate, ModuleSuspend, …), so that WHMCS updates the service
 *   status and resolves the row as an admin's Retry would; that call, and only that one,
 *   carries the row's `created_at` as `event_time` (Queue::asRetryOf), so isphooks
 *   supersedes it if a newer decision reached the account meanwhile;
 * - backoff per row from `last_attempt` and `num_retries`: 5 min, doubling, at most 6 h;
 *   at most 20 rows per cron run, and none started after 60 s;
 * - guards: the service (and all its client's unpaid invoices) is read again first. A row
 *   WHMCS no longer wants — Create only while Pending, Suspend only while Active and still
 *   overdue, Unsuspend only while Suspended and not overdue, Change Package / Change
 *   Password unless Terminated or Cancelled — is never resolved on a guess: its first
 *   attempt may have reached the panel with its answer lost. The panel is first made to
 *   match what WHMCS wants now by the service's "Repair to WHMCS state" (AdminTab::repair,
 *   run through WHMCS's ModuleCustom: a reconcile of this one service with `apply`,
 *   decided now); only when that succeeds (in sync, or repaired) is the row resolved, with
 *   an activity-log line saying what was done. Otherwise the row stays, the attempt is
 *   counted (backoff), and it is tried again later;
 * - Terminate is never retried here (deleting data waits for a person); a row failing for
 *   24 h is still guarded (and resolved as above), else left for the admin with one
 *   activity-log line. The activity log is read once per cron run for those lines.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/AdminTab.php';
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
    /** GetInvoices page size, and the most pages read: a client with more unpaid invoices
     *  than that cannot be judged, and its row is not resolved on a guess. */
    public const INVOICE_PAGE = 250;
    public const INVOICE_PAGES = 40;
    private const WAITS = ': automatic retries stopped; it waits for an administrator (Utilities > Module Queue)';

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
        $forAdmin = []; // lines logged once ever per row: the log is read once, at the end
        foreach ($rows as $row) {
            if ($tried >= self::MAX_ROWS || microtime(true) - $started >= self::MAX_SECONDS) {
                break;
            }
            $command = self::COMMANDS[(string) $row->module_action] ?? null;
            if ($command === null || !self::due($row, $now)) {
                continue; // TerminateAccount and anything else: the admin's
            }
            $created = Queue::timestamp($row->created_at ?? null);
            $old = $created !== null && $now - $created >= self::GIVE_UP_S;
            try {
                $service = self::service((int) $row->service_id);
                $why = $service === null ? null : self::unwanted((string) $row->module_action, $service);
            } catch (\Throwable $error) {
                self::log(self::what($row) . ' not retried now: cannot tell whether WHMCS still wants it ('
                    . Text::html(Text::oneLine($error->getMessage())) . ')');
                continue;
            }
            if ($service === null) {
                // Nothing left in WHMCS for the panel to match (the drift report lists an
                // account that still carries its marker).
                Queue::resolve($row);
                self::log(self::what($row) . ' not retried, and resolved: the service no longer exists in WHMCS');
            } elseif ($why !== null) {
                $tried += self::settle($row, $service, $why, $old, $now, $forAdmin) ? 1 : 0;
            } elseif ($old) {
                $forAdmin[] = self::what($row) . ' has failed for 24 hours' . self::WAITS;
            } else {
                $tried++;
                self::retry($row, $command, $now);
            }
        }
        self::logOnce($forAdmin);
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

    /**
     * A row WHMCS no longer wants: resolved only once the panel matches what WHMCS wants now
     * (the Repair button's reconcile succeeded: in sync, or repaired). A service WHMCS has
     * neither Active nor Suspended has no state the panel could be repaired to: its row is
     * left for the admin. Returns whether a call was made.
     *
     * @param list<string> $forAdmin
     */
    private static function settle(object $row, array $service, string $why, bool $old, int $now,
        array &$forAdmin): bool
    {
        $status = (string) ($service['status'] ?? '');
        $unwanted = self::what($row) . ' is no longer wanted (' . $why . ')';
        if (!isset(AdminTab::STATES[$status])) {
            $forAdmin[] = $unwanted . ', but only an Active or Suspended service can be repaired to its state'
                . self::WAITS;
            return false;
        }
        $serviceId = (int) $row->service_id;
        $result = localAPI('ModuleCustom', ['serviceid' => $serviceId, 'func_name' => 'RepairAccount']);
        if (($result['result'] ?? '') === 'success') {
            Queue::resolve($row);
            self::log(self::what($row) . ' not retried, and resolved: ' . $why . '; ' . (AdminTab::lastRepair($serviceId)
                ?? 'the panel matches WHMCS (Repair to WHMCS state succeeded)'));
            return true;
        }
        $message = Text::oneLine((string) ($result['message'] ?? 'no answer'));
        self::countAttempt($row, $now, 'Repair to WHMCS state: ' . $message);
        if ($old) {
            $forAdmin[] = $unwanted . ', but the panel could not be made to match WHMCS (its last error says why)'
                . self::WAITS;
        } else {
            self::log($unwanted . ', but not resolved: the panel could not be made to match WHMCS (' . $message
                . '); tried again later');
        }
        return true;
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

    /** Does the service have an unpaid invoice item past its due date (GetInvoices, page by
     *  page; GetInvoice)? */
    private static function overdue(array $service): bool
    {
        $serviceId = (int) $service['id'];
        $today = date('Y-m-d');
        $start = 0;
        for ($page = 0; $page < self::INVOICE_PAGES; $page++) {
            $answer = localAPI('GetInvoices', ['userid' => (int) ($service['clientid'] ?? 0), 'status' => 'Unpaid',
                'orderby' => 'id', 'order' => 'asc', 'limitstart' => $start, 'limitnum' => self::INVOICE_PAGE]);
            if (($answer['result'] ?? '') !== 'success') {
                throw new \RuntimeException('GetInvoices: ' . (string) ($answer['message'] ?? 'no answer'));
            }
            $invoices = array_values(array_filter((array) ($answer['invoices']['invoice'] ?? []), 'is_array'));
            foreach ($invoices as $invoice) {
                if ((string) ($invoice['duedate'] ?? '9999') < $today && self::bills($invoice, $serviceId)) {
                    return true;
                }
            }
            $start += count($invoices);
            if ($invoices === [] || $start >= (int) ($answer['totalresults'] ?? 0)) {
                return false;
            }
        }
        throw new \RuntimeException('GetInvoices: more than ' . self::INVOICE_PAGE * self::INVOICE_PAGES
            . ' unpaid invoices of the client');
    }

    /** Does this invoice bill the service (an item of type Hosting with its id)? */
    private static function bills(array $invoice, int $serviceId): bool
    {
        $detail = localAPI('GetInvoice', ['invoiceid' => (int) ($invoice['id'] ?? 0)]);
        foreach ((array) ($detail['items']['item'] ?? []) as $item) {
            if (is_array($item) && (int) ($item['relid'] ?? 0) === $serviceId
                && (string) ($item['type'] ?? '') === 'Hosting') {
                return true;
            }
        }
        return false;
    }

    private static function retry(object $row, string $command, int $now): void
    {
        $values = ['serviceid' => (int) $row->service_id];
        if ($command === 'ModuleSuspend') {
            $values['suspendreason'] = self::suspendReason((int) $row->service_id);
        }
        $result = Queue::asRetryOf($row, fn (): array => localAPI($command, $values));
        $ok = ($result['result'] ?? '') === 'success';
        $after = Queue::reread($row);
        if ($ok && $after !== null && (int) $after->completed === 0) {
            Queue::resolve($after); // WHMCS resolves it itself; this covers one that did not
        } elseif (!$ok && $after !== null && (string) $after->last_attempt === (string) $row->last_attempt) {
            // WHMCS did not count this attempt: count it here, so that the backoff holds.
            self::countAttempt($row, $now, (string) ($result['message'] ?? ''));
        }
        self::log(self::what($row) . ($ok ? ' retried automatically: success'
            : ' retried automatically and failed again: ' . Text::oneLine((string) ($result['message'] ?? 'no answer'))));
    }

    private static function countAttempt(object $row, int $now, string $error): void
    {
        Capsule::table(Queue::TABLE)->where('id', $row->id)->update(['last_attempt' => date('Y-m-d H:i:s', $now),
            'num_retries' => (int) $row->num_retries + 1, 'last_attempt_error' => $error]);
    }

    private static function suspendReason(int $serviceId): string
    {
        try {
            return (string) (Capsule::table('tblhosting')->where('id', $serviceId)->value('suspendreason') ?? '');
        } catch (\Throwable) {
            return '';
        }
    }

    /**
     * Lines for the admin, each logged the first time only: one read of the activity log
     * per cron run finds those already there.
     *
     * @param list<string> $lines
     */
    private static function logOnce(array $lines): void
    {
        if ($lines === []) {
            return;
        }
        $descriptions = array_map(fn (string $line): string => 'isphooks: ' . $line, $lines);
        try {
            $logged = [];
            foreach (Capsule::table('tblactivitylog')->whereIn('description', $descriptions)->get() as $entry) {
                $logged[(string) $entry->description] = true;
            }
        } catch (\Throwable) {
            return; // without the log to look in, better silent than a line every cron run
        }
        foreach ($lines as $i => $line) {
            if (!isset($logged[$descriptions[$i]])) {
                self::log($line);
            }
        }
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
