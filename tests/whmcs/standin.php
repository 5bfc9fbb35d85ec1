<?php
/**
 * A test-only stand-in for the parts of WHMCS the isphooks modules use: logModuleCall (which,
 * like WHMCS, scrubs the replace-vars from what it stores), localAPI, Capsule over an
 * in-memory tblhosting, and WHMCS\Service\Status. Everything the module does is recorded.
 */

declare(strict_types=1);

namespace {
    if (!defined('WHMCS')) {
        define('WHMCS', true);
    }

    final class WhmcsStandIn
    {
        public const SCRUBBED = '*****';
        /** @var list<array<string, string>> module log entries as WHMCS stores them */
        public static array $moduleLog = [];
        /** @var list<list<string>> the replace-vars of each entry (for PHPUnit; never printed) */
        public static array $replaceVars = [];
        /** @var list<array{command: string, values: array}> */
        public static array $localApi = [];
        /** @var array<string, array> command => the answer localAPI gives */
        public static array $localApiAnswers = [];
        /** @var list<array<string, mixed>> rows of tblhosting */
        public static array $tblhosting = [];
        /** @var list<array{table: string, where: array, values: array, matched: int}> */
        public static array $updates = [];

        public static function reset(): void
        {
            self::$moduleLog = self::$replaceVars = self::$localApi = self::$localApiAnswers = [];
            self::$tblhosting = self::$updates = [];
        }

        public static function text(mixed $value): string
        {
            return is_string($value) ? $value : print_r($value, true);
        }
    }

    function logModuleCall($module, $action, $requestString, $responseData, $processedData, $replaceVars = []): void
    {
        $replaceVars = array_values(array_filter((array) $replaceVars, fn ($v): bool => (string) $v !== ''));
        $scrub = fn (mixed $value): string => str_replace($replaceVars, WhmcsStandIn::SCRUBBED, WhmcsStandIn::text($value));
        WhmcsStandIn::$moduleLog[] = [
            'module' => (string) $module,
            'action' => (string) $action,
            'request' => $scrub($requestString),
            'response' => $scrub($responseData),
            'processed' => $scrub($processedData),
        ];
        WhmcsStandIn::$replaceVars[] = array_map('strval', $replaceVars);
    }

    function localAPI(string $command, array $values = [], string $adminUser = ''): array
    {
        WhmcsStandIn::$localApi[] = ['command' => $command, 'values' => $values];
        return WhmcsStandIn::$localApiAnswers[$command] ?? ['result' => 'success'];
    }
}

namespace WHMCS\Service {
    final class Status
    {
        public const PENDING = 'Pending';
        public const ACTIVE = 'Active';
        public const SUSPENDED = 'Suspended';
        public const TERMINATED = 'Terminated';
        public const CANCELLED = 'Cancelled';
        public const FRAUD = 'Fraud';
        public const COMPLETED = 'Completed';
    }
}

namespace WHMCS\Database {
    final class Expression
    {
        public function __construct(public readonly string $sql)
        {
        }
    }

    final class Query
    {
        /** @var array<string, mixed> */
        private array $where = [];

        public function __construct(private readonly string $table)
        {
        }

        public function where(string $column, mixed $value): self
        {
            $this->where[$column] = $value;
            return $this;
        }

        public function update(array $values): int
        {
            $matched = 0;
            if ($this->table === 'tblhosting') {
                foreach (\WhmcsStandIn::$tblhosting as $i => $row) {
                    foreach ($this->where as $column => $value) {
                        if ((string) ($row[$column] ?? '') !== (string) $value) {
                            continue 2;
                        }
                    }
                    foreach ($values as $column => $value) {
                        \WhmcsStandIn::$tblhosting[$i][$column] = $value instanceof Expression
                            ? 'RAW:' . $value->sql : $value;
                    }
                    $matched++;
                }
            }
            $recorded = array_map(fn ($v) => $v instanceof Expression ? 'RAW:' . $v->sql : $v, $values);
            \WhmcsStandIn::$updates[] = ['table' => $this->table, 'where' => $this->where,
                'values' => $recorded, 'matched' => $matched];
            return $matched;
        }
    }

    final class Capsule
    {
        public static function table(string $table): Query
        {
            return new Query($table);
        }

        public static function raw(string $sql): Expression
        {
            return new Expression($sql);
        }
    }
}
