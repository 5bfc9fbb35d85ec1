<?php
/**
 * WHMCS's module queue (tblmodulequeue, WHMCS\Module\Queue) as isphooks reads it: one
 * incomplete row per failed (service, module, action), kept until a retry succeeds; a
 * further failure bumps `num_retries` and `last_attempt`, not `created_at`. Only the
 * AfterCronJob hook's retry of a row is back-dated to it (decisionTime).
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

use WHMCS\Database\Capsule;

final class Queue
{
    public const TABLE = 'tblmodulequeue';
    public const MODULES = ['isphooks', 'isphooks_reseller'];
    /** isphooks refuses an event_time before 2020-01-01 (docs/interface.md §3). */
    private const EARLIEST_MS = 1577836800000;

    /** The queue row whose retry this process is making right now (Retries, around its own
     *  localAPI call), or null. */
    private static ?object $retrying = null;

    /**
     * Run `$call` as the retry of `$row`: a module call inside it for the row's service,
     * module and action carries the row's decision time (decisionTime). WHMCS runs a local
     * API command in the process that calls it, so a process-level marker reaches the
     * module function; it is cleared afterwards, whatever happens.
     */
    public static function asRetryOf(object $row, callable $call): mixed
    {
        $previous = self::$retrying;
        self::$retrying = $row;
        try {
            return $call();
        } finally {
            self::$retrying = $previous;
        }
    }

    /**
     * The `event_time` of a call: when WHMCS decided it. Only the retry of a queue row is
     * back-dated, to the row's `created_at` (never later than now); every other call is a
     * decision made now.
     *
     * What the module can tell: its own retry, made by the AfterCronJob hook inside
     * asRetryOf. What it cannot: an admin's "Retry" on the Module Queue page. WHMCS runs
     * the module function then with the ordinary parameters and no sign of being a retry,
     * exactly as for a new automatic suspend, a client's password change or an admin's
     * button — and back-dating any of those to an old row's time makes isphooks supersede
     * a decision made now (a suspend that never happens again, a password change reported
     * done that the panel never made). So an admin's Retry is stamped now: the admin decides
     * it again now, and the panel follows WHMCS.
     *
     * `created_at` has whole seconds, and the row is written after the first attempt was
     * sent: the end of that second is never earlier than the first attempt's own
     * `event_time`, so a retry is never superseded by what its first attempt recorded.
     */
    public static function decisionTime(string $module, string $function, int $serviceId,
        ?int $nowMs = null): int
    {
        $now = $nowMs ?? Client::nowMs();
        $row = self::$retrying;
        if ($row === null || $serviceId <= 0 || (int) ($row->service_id ?? 0) !== $serviceId
            || (string) ($row->module_name ?? '') !== $module || (string) ($row->module_action ?? '') !== $function) {
            return $now;
        }
        $at = self::timestamp($row->created_at ?? null);
        return $at !== null && $at * 1000 >= self::EARLIEST_MS ? min($at * 1000 + 999, $now) : $now;
    }

    /** Unix seconds of a WHMCS datetime ('Y-m-d H:i:s', the installation's time zone). */
    public static function timestamp(mixed $value): ?int
    {
        $text = trim((string) $value);
        if ($text === '' || str_starts_with($text, '0000-00-00')) {
            return null;
        }
        try {
            return (new \DateTimeImmutable($text))->getTimestamp();
        } catch (\Throwable) {
            return null;
        }
    }

    /** Mark a row resolved, through WHMCS's model where it is there. */
    public static function resolve(object $row): void
    {
        if (class_exists('\WHMCS\Module\Queue')) {
            \WHMCS\Module\Queue::resolve((string) $row->service_type, (int) $row->service_id,
                (string) $row->module_name, (string) $row->module_action);
            return;
        }
        Capsule::table(self::TABLE)->where('id', $row->id)->update(['completed' => 1]);
    }

    public static function reread(object $row): ?object
    {
        return Capsule::table(self::TABLE)->where('id', $row->id)->first();
    }
}
