<?php
/**
 * The WHMCS stand-in's database: `WHMCS\Database\Capsule` (WHMCS's documented access to its
 * database, Illuminate's query builder) over in-memory tables, with the subset of the
 * builder the modules use: where / whereIn / orderBy / limit, get / first / count / value,
 * update / insert / insertGetId / delete, Capsule::raw, and Capsule::schema() with
 * hasTable and create (a Blueprint that records its columns; a created table exists, empty).
 * Rows come back as stdClass objects, as Illuminate returns them; the reads of each table
 * are counted (WhmcsStandIn::$reads). A table named in
 * WhmcsStandIn::$broken throws on any query, as a missing table or a database error would.
 */

declare(strict_types=1);

namespace WHMCS\Database {
    final class Expression
    {
        public function __construct(public readonly string $sql)
        {
        }
    }

    /** A query result: iterable and countable, like Illuminate's Collection. */
    final class Collection implements \IteratorAggregate, \Countable
    {
        /** @param list<object> $items */
        public function __construct(private readonly array $items)
        {
        }

        public function getIterator(): \ArrayIterator
        {
            return new \ArrayIterator($this->items);
        }

        public function count(): int
        {
            \WhmcsStandIn::$reads[$this->table] = (\WhmcsStandIn::$reads[$this->table] ?? 0) + 1;
            return count($this->items);
        }

        /** @return list<object> */
        public function all(): array
        {
            return $this->items;
        }

        public function first(): ?object
        {
            return $this->items[0] ?? null;
        }
    }

    final class Query
    {
        /** @var list<array{0: string, 1: string, 2: mixed}> */
        private array $where = [];
        /** @var list<array{0: string, 1: string}> */
        private array $order = [];
        private ?int $limit = null;

        public function __construct(private readonly string $table)
        {
            if (isset(\WhmcsStandIn::$broken[$table])) {
                throw new \RuntimeException(\WhmcsStandIn::$broken[$table]);
            }
        }

        public function where(string $column, mixed $operator, mixed $value = null): self
        {
            if (func_num_args() === 2) {
                [$operator, $value] = ['=', $operator];
            }
            $this->where[] = [$column, (string) $operator, $value];
            return $this;
        }

        public function whereIn(string $column, array $values): self
        {
            $this->where[] = [$column, 'in', $values];
            return $this;
        }

        public function orderBy(string $column, string $direction = 'asc'): self
        {
            $this->order[] = [$column, strtolower($direction)];
            return $this;
        }

        public function limit(int $limit): self
        {
            $this->limit = $limit;
            return $this;
        }

        public function get(): Collection
        {
            \WhmcsStandIn::$reads[$this->table] = (\WhmcsStandIn::$reads[$this->table] ?? 0) + 1;
            return new Collection(array_map(fn (array $row): object => (object) $row, array_values($this->rows())));
        }

        public function first(): ?object
        {
            return $this->limit(1)->get()->first();
        }

        public function count(): int
        {
            \WhmcsStandIn::$reads[$this->table] = (\WhmcsStandIn::$reads[$this->table] ?? 0) + 1;
            return count($this->rows());
        }

        public function value(string $column): mixed
        {
            $row = $this->first();
            return $row === null ? null : ($row->{$column} ?? null);
        }

        public function update(array $values): int
        {
            $values = array_map(fn ($v) => $v instanceof Expression ? 'RAW:' . $v->sql : $v, $values);
            $matched = 0;
            foreach (array_keys($this->rows()) as $i) {
                \WhmcsStandIn::$db[$this->table][$i] = $values + \WhmcsStandIn::$db[$this->table][$i];
                $matched++;
            }
            \WhmcsStandIn::$updates[] = ['table' => $this->table, 'where' => $this->plainWhere(),
                'values' => $values, 'matched' => $matched];
            return $matched;
        }

        public function insert(array $values): bool
        {
            $this->insertGetId($values);
            return true;
        }

        public function insertGetId(array $values): int
        {
            $rows = \WhmcsStandIn::$db[$this->table] ?? [];
            $id = (int) ($values['id'] ?? (max([0, ...array_map(fn ($r) => (int) ($r['id'] ?? 0), $rows)]) + 1));
            \WhmcsStandIn::$db[$this->table][] = ['id' => $id] + $values;
            return $id;
        }

        public function delete(): int
        {
            $gone = array_keys($this->rows());
            foreach ($gone as $i) {
                unset(\WhmcsStandIn::$db[$this->table][$i]);
            }
            \WhmcsStandIn::$db[$this->table] = array_values(\WhmcsStandIn::$db[$this->table] ?? []);
            return count($gone);
        }

        /** @return array<int, array<string, mixed>> matching rows by their index in the table */
        private function rows(): array
        {
            $rows = array_filter(\WhmcsStandIn::$db[$this->table] ?? [], fn (array $row): bool => $this->matches($row));
            foreach (array_reverse($this->order) as [$column, $direction]) {
                uasort($rows, function (array $a, array $b) use ($column, $direction): int {
                    $cmp = ($a[$column] ?? null) <=> ($b[$column] ?? null);
                    return $direction === 'desc' ? -$cmp : $cmp;
                });
            }
            return $this->limit === null ? $rows : array_slice($rows, 0, $this->limit, true);
        }

        private function matches(array $row): bool
        {
            foreach ($this->where as [$column, $operator, $value]) {
                $have = $row[$column] ?? null;
                $ok = match ($operator) {
                    '=' => (string) $have === (string) $value,
                    '!=', '<>' => (string) $have !== (string) $value,
                    '<' => $have < $value, '<=' => $have <= $value,
                    '>' => $have > $value, '>=' => $have >= $value,
                    'in' => in_array((string) $have, array_map('strval', $value), true),
                    default => throw new \InvalidArgumentException('operator ' . $operator),
                };
                if (!$ok) {
                    return false;
                }
            }
            return true;
        }

        private function plainWhere(): array
        {
            $plain = [];
            foreach ($this->where as [$column, $operator, $value]) {
                $plain[$column] = $operator === '=' ? $value : [$operator, $value];
            }
            return $plain;
        }
    }

    /** A column of a Blueprint: its modifiers are recorded, and change nothing here. */
    final class Column
    {
        /** @var list<string> */
        public array $modifiers = [];

        public function __construct(public readonly string $type, public readonly string $name)
        {
        }

        public function __call(string $modifier, array $arguments): self
        {
            $this->modifiers[] = $modifier;
            return $this;
        }
    }

    final class Blueprint
    {
        /** @var list<Column> */
        public array $columns = [];

        public function __call(string $type, array $arguments): Column
        {
            $column = new Column($type, (string) ($arguments[0] ?? ''));
            $this->columns[] = $column;
            return $column;
        }
    }

    final class SchemaBuilder
    {
        public function hasTable(string $table): bool
        {
            if (isset(\WhmcsStandIn::$broken[$table])) {
                throw new \RuntimeException(\WhmcsStandIn::$broken[$table]);
            }
            return array_key_exists($table, \WhmcsStandIn::$db);
        }

        public function create(string $table, callable $define): void
        {
            if ($this->hasTable($table)) {
                throw new \RuntimeException("table '$table' already exists");
            }
            $blueprint = new Blueprint();
            $define($blueprint);
            \WhmcsStandIn::$db[$table] = [];
            \WhmcsStandIn::$schemas[$table] = array_map(
                fn (Column $c): array => ['type' => $c->type, 'name' => $c->name, 'modifiers' => $c->modifiers],
                $blueprint->columns);
        }
    }

    final class Capsule
    {
        public static function schema(): SchemaBuilder
        {
            return new SchemaBuilder();
        }

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
