<?php
/**
 * The object counts of each service (web and mail domains, mailboxes, databases, FTP
 * users) as Usage Update last read them from isphooks' `usage` with `counts`, in the
 * module's own table `mod_isphooks_usage` (made on first use with Capsule's schema
 * builder, developers.whmcs.com/advanced/db-interaction; WHMCS's own tables are left as
 * they are). Disk and traffic stay where WHMCS keeps them (tblhosting). The client area
 * reads this table: no panel call per page view.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

use WHMCS\Database\Capsule;

final class UsageStore
{
    public const TABLE = 'mod_isphooks_usage';
    /** isphooks' usage count fields, in the order the client area shows them. */
    public const COUNTS = ['web_domains', 'mail_domains', 'mailboxes', 'databases', 'ftp_users'];

    public static function ensure(): void
    {
        $schema = Capsule::schema();
        if ($schema->hasTable(self::TABLE)) {
            return;
        }
        $schema->create(self::TABLE, function ($table): void {
            $table->integer('service_id')->unique();
            foreach (self::COUNTS as $column) {
                $table->integer($column)->nullable(); // null: the panel does not show it
            }
            $table->dateTime('updated_at');
        });
    }

    /** @param array<string, mixed> $account one account of isphooks' usage answer */
    public static function write(int $serviceId, array $account, string $now): void
    {
        $values = ['updated_at' => $now];
        foreach (self::COUNTS as $column) {
            $value = $account[$column] ?? null;
            $values[$column] = is_int($value) && $value >= 0 ? $value : null;
        }
        $query = Capsule::table(self::TABLE)->where('service_id', $serviceId);
        if ($query->count() > 0) {
            Capsule::table(self::TABLE)->where('service_id', $serviceId)->update($values);
        } else {
            Capsule::table(self::TABLE)->insert(['service_id' => $serviceId] + $values);
        }
    }

    /** @return array<string, int|null>|null the counts stored for a service, null: none yet */
    public static function read(int $serviceId): ?array
    {
        if (!Capsule::schema()->hasTable(self::TABLE)) {
            return null;
        }
        $row = Capsule::table(self::TABLE)->where('service_id', $serviceId)->first();
        if (!is_object($row)) {
            return null;
        }
        $counts = [];
        foreach (self::COUNTS as $column) {
            $value = $row->{$column} ?? null;
            $counts[$column] = is_numeric($value) ? (int) $value : null;
        }
        $counts['updated_at'] = (string) ($row->updated_at ?? '');
        return $counts;
    }
}
