<?php
/**
 * WHMCS's usage-billing provider for isphooks (MetricProvider). This file implements WHMCS's
 * interfaces and uses its classes, so only isphooks_MetricProvider loads it, inside WHMCS:
 * the module and its tests load without them. Listing the metrics makes no network call
 * and needs no server; `usage()` reads one server's `usage` with `counts`, `tenantUsage()`
 * one account's.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/MetricSource.php';

use WHMCS\UsageBilling\Contracts\Metrics\MetricInterface;
use WHMCS\UsageBilling\Contracts\Metrics\ProviderInterface;
use WHMCS\UsageBilling\Metrics\Metric;
use WHMCS\UsageBilling\Metrics\Units\Accounts;
use WHMCS\UsageBilling\Metrics\Units\Domains;
use WHMCS\UsageBilling\Metrics\Units\GigaBytes;
use WHMCS\UsageBilling\Metrics\Units\WholeNumber;
use WHMCS\UsageBilling\Metrics\Usage;

final class UsageMetrics implements ProviderInterface
{
    /** @param \Closure(): MetricSource $source made on first use: listing needs no server */
    public function __construct(private readonly \Closure $source)
    {
    }

    /** @return array<string, MetricInterface> keyed by system name */
    public function metrics()
    {
        $metrics = [];
        foreach (MetricSource::METRICS as $name => [$display, $type, $unit]) {
            $metrics[$name] = new Metric($name, $display,
                $type === 'month' ? MetricInterface::TYPE_PERIOD_MONTH : MetricInterface::TYPE_SNAPSHOT,
                match ($unit) {
                    'gigabytes' => new GigaBytes(),
                    'domains' => new Domains($display),
                    'accounts' => new Accounts($display),
                    default => new WholeNumber($display),
                });
        }
        return $metrics;
    }

    /** @return array<string, list<MetricInterface>> username => its metrics with usage */
    public function usage()
    {
        $usage = [];
        foreach (($this->source)()->all() as $username => $values) {
            $usage[$username] = $this->withUsage($values);
        }
        return $usage;
    }

    /** @return list<MetricInterface> */
    public function tenantUsage($tenant)
    {
        return $this->withUsage(($this->source)()->tenant((string) $tenant));
    }

    /** @param array<string, float|int> $values */
    private function withUsage(array $values): array
    {
        $metrics = $this->metrics();
        $measured = [];
        foreach ($values as $name => $value) {
            $measured[] = $metrics[$name]->withUsage(new Usage($value));
        }
        return $measured;
    }
}
