<?php
/**
 * WHMCS's module queue (tblmodulequeue, WHMCS\Module\Queue) as isphooks reads it: one
 * incomplete row per failed (service, module, action), kept until a retry succeeds; a
 * further failure bumps `num_retries` and `last_attempt`, not `created_at`.
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

    /**
     * The `event_time` of a call: when WHMCS decided it. A retry (an admin's, or the
     * AfterCronJob hook's) runs the module function with the ordinary parameters and no
     * sign of being one, so the decision time is read from the incomplete queue row of this
     * service, module and action: its `created_at`, never later than now. Without such a
     * row the call is a decision made now. Any failure of the lookup (no table, no column,
     * a database error, an unreadable date) means now: it never fails the call.
     *
     * `created_at` has whole seconds, and the row is written after the first attempt was
     * sent: the end of that second is never earlier than the first attempt's own
     * `event_time`, so a retry is never superseded by what its first attempt recorded.
     */
    public static function decisionTime(string $module, string $function, int $serviceId,
        ?int $nowMs = null): int
    {
        $now = $nowMs ?? Client::nowMs();
        if ($serviceId <= 0) {
            return $now;
        }
        try {
            $row = Capsule::table(self::TABLE)->where('service_type', 'service')
                ->where('service_id', $serviceId)->where('module_name', $module)
                ->where('module_action', $function)->where('completed', 0)
                ->orderBy('created_at')->first();
            $at = is_object($row) ? self::timestamp($row->created_at ?? null) : null;
            return $at !== null && $at * 1000 >= self::EARLIEST_MS ? min($at * 1000 + 999, $now) : $now;
        } catch (\Throwable) {
            return $now;
        }
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
