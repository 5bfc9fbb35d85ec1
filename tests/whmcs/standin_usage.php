<?php
/**
 * The stand-in's WHMCS usage billing (7.9+), written from WHMCS's class documentation
 * (developers.whmcs.com/provisioning-modules/usage-metrics and the class reference:
 * WHMCS\UsageBilling\Contracts\Metrics\{ProviderInterface, MetricInterface, UsageInterface,
 * UnitInterface}, WHMCS\UsageBilling\Metrics\{Metric, Usage}, and the units under
 * WHMCS\UsageBilling\Metrics\Units). Only what the documentation states: constructors,
 * accessors, `withUsage`, the three metric types.
 */

declare(strict_types=1);

namespace WHMCS\UsageBilling\Contracts\Metrics {
    interface ProviderInterface
    {
        /** @return MetricInterface[] */
        public function metrics();

        /** @return array all usage of the provider, keyed by tenant */
        public function usage();

        /** @return MetricInterface[] */
        public function tenantUsage($tenant);
    }

    interface UnitInterface
    {
        public function name();

        public function singlePerUnitName();

        public function pluralPerUnitName();

        public function prefix();

        public function suffix();
    }

    interface UsageInterface
    {
        public function value();

        public function collectedAt();

        public function startAt();

        public function endAt();
    }

    interface MetricInterface
    {
        public const TYPE_SNAPSHOT = 'snapshot';
        public const TYPE_PERIOD_DAY = 'day';
        public const TYPE_PERIOD_MONTH = 'month';

        public function usage();

        public function withUsage(?UsageInterface $usage = null);

        public function units();

        public function systemName();

        public function displayName();

        public function type();
    }
}

namespace WHMCS\UsageBilling\Metrics {
    use WHMCS\UsageBilling\Contracts\Metrics\MetricInterface;
    use WHMCS\UsageBilling\Contracts\Metrics\UnitInterface;
    use WHMCS\UsageBilling\Contracts\Metrics\UsageInterface;

    class Usage implements UsageInterface
    {
        public function __construct(private $value, private $collectedAt = null, private $startAt = null,
            private $endAt = null)
        {
        }

        public function value()
        {
            return $this->value;
        }

        public function collectedAt()
        {
            return $this->collectedAt;
        }

        public function startAt()
        {
            return $this->startAt;
        }

        public function endAt()
        {
            return $this->endAt;
        }
    }

    class Metric implements MetricInterface
    {
        public function __construct(private $systemName, private $displayName = null, private $type = null,
            private ?UnitInterface $units = null, private ?UsageInterface $usage = null)
        {
            if (!in_array($type ?? self::TYPE_SNAPSHOT, [self::TYPE_SNAPSHOT, self::TYPE_PERIOD_DAY,
                self::TYPE_PERIOD_MONTH], true)) {
                throw new \InvalidArgumentException('unknown metric type ' . print_r($type, true));
            }
        }

        public function usage()
        {
            return $this->usage;
        }

        public function withUsage(?UsageInterface $usage = null)
        {
            return new static($this->systemName, $this->displayName, $this->type, $this->units, $usage);
        }

        public function units()
        {
            return $this->units;
        }

        public function systemName()
        {
            return $this->systemName;
        }

        public function displayName()
        {
            return $this->displayName ?? $this->systemName;
        }

        public function type()
        {
            return $this->type ?? self::TYPE_SNAPSHOT;
        }
    }
}

namespace WHMCS\UsageBilling\Metrics\Units {
    use WHMCS\UsageBilling\Contracts\Metrics\UnitInterface;

    abstract class AbstractUnit implements UnitInterface
    {
        public function __construct(protected $name, protected $singlePerUnitName = null,
            protected $pluralPerUnitName = null, protected $prefix = null, protected $suffix = null)
        {
        }

        public function name()
        {
            return $this->name;
        }

        public function singlePerUnitName()
        {
            return $this->singlePerUnitName;
        }

        public function pluralPerUnitName()
        {
            return $this->pluralPerUnitName;
        }

        public function prefix()
        {
            return $this->prefix;
        }

        public function suffix()
        {
            return $this->suffix;
        }
    }

    class WholeNumber extends AbstractUnit
    {
    }

    class FloatingPoint extends AbstractUnit
    {
    }

    class Accounts extends WholeNumber
    {
        public function __construct($name = 'Accounts', $singlePerUnitName = 'Account', $pluralPerUnitName = 'Accounts',
            $prefix = null, $suffix = null)
        {
            parent::__construct($name, $singlePerUnitName, $pluralPerUnitName, $prefix, $suffix);
        }
    }

    class Domains extends WholeNumber
    {
        public function __construct($name = 'Domains', $singlePerUnitName = 'Domain', $pluralPerUnitName = 'Domains',
            $prefix = null, $suffix = null)
        {
            parent::__construct($name, $singlePerUnitName, $pluralPerUnitName, $prefix, $suffix);
        }
    }

    class Bytes extends FloatingPoint
    {
        public function __construct($name = 'Bytes', $singlePerUnitName = null, $pluralPerUnitName = null,
            $prefix = null, $suffix = 'B')
        {
            parent::__construct($name, $singlePerUnitName, $pluralPerUnitName, $prefix, $suffix);
        }
    }

    class MegaBytes extends Bytes
    {
        public function __construct($name = 'Megabytes', $singlePerUnitName = null, $pluralPerUnitName = null,
            $prefix = null, $suffix = 'MB')
        {
            parent::__construct($name, $singlePerUnitName, $pluralPerUnitName, $prefix, $suffix);
        }
    }

    class GigaBytes extends Bytes
    {
        public function __construct($name = 'Gigabytes', $singlePerUnitName = null, $pluralPerUnitName = null,
            $prefix = null, $suffix = 'GB')
        {
            parent::__construct($name, $singlePerUnitName, $pluralPerUnitName, $prefix, $suffix);
        }
    }
}
