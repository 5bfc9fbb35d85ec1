<?php
/**
 * A FOSSBilling stand-in for the isphooks server manager's tests: the classes a server
 * manager meets in FOSSBilling — the abstract Server_Manager, Server_Account, Server_Client,
 * Server_Package, Server_Exception (and its parent FOSSBilling\Exception) — written here from
 * the public signatures of FOSSBilling's src/library/Server/*.php (Apache-2.0; none of their
 * code is copied). tests/fossbilling/signatures.json records those signatures, read by
 * reflection from FOSSBilling's own files at a named commit, and InterfaceTest holds this
 * stand-in and the manager to them.
 *
 * Where the stand-in is simpler, on purpose: FOSSBilling\Exception only substitutes the
 * variables (FOSSBilling's translates with gettext first, which returns an unknown message
 * as it is); Server_Manager::getLog() answers a NullLogger where FOSSBilling's answers a
 * new FOSSBilling\Logger; getHttpClient() has no Symfony HTTP client to make.
 * Psr\Log\LoggerInterface is declared (PSR-3, psr/log 3) when no other copy is loaded.
 */

declare(strict_types=1);

namespace Psr\Log {

    if (!interface_exists(LoggerInterface::class)) {
        interface LoggerInterface
        {
            public function emergency(string|\Stringable $message, array $context = []): void;

            public function alert(string|\Stringable $message, array $context = []): void;

            public function critical(string|\Stringable $message, array $context = []): void;

            public function error(string|\Stringable $message, array $context = []): void;

            public function warning(string|\Stringable $message, array $context = []): void;

            public function notice(string|\Stringable $message, array $context = []): void;

            public function info(string|\Stringable $message, array $context = []): void;

            public function debug(string|\Stringable $message, array $context = []): void;

            public function log($level, string|\Stringable $message, array $context = []): void;
        }
    }
}

namespace FossbillingStandIn {

    /** What the stand-in's getLog() answers when no logger was set. */
    final class NullLogger implements \Psr\Log\LoggerInterface
    {
        public function emergency(string|\Stringable $message, array $context = []): void
        {
        }

        public function alert(string|\Stringable $message, array $context = []): void
        {
        }

        public function critical(string|\Stringable $message, array $context = []): void
        {
        }

        public function error(string|\Stringable $message, array $context = []): void
        {
        }

        public function warning(string|\Stringable $message, array $context = []): void
        {
        }

        public function notice(string|\Stringable $message, array $context = []): void
        {
        }

        public function info(string|\Stringable $message, array $context = []): void
        {
        }

        public function debug(string|\Stringable $message, array $context = []): void
        {
        }

        public function log($level, string|\Stringable $message, array $context = []): void
        {
        }
    }
}

namespace FOSSBilling {

    class Exception extends \Exception
    {
        public function __construct(string $message, ?array $variables = null, int $code = 0, bool $protected = false)
        {
            parent::__construct(is_array($variables) ? strtr($message, $variables) : $message, $code);
        }
    }
}

namespace {

    class Server_Exception extends FOSSBilling\Exception
    {
        public function __construct(string $message, ?array $variables = null, int $code = 0)
        {
            parent::__construct($message, $variables, $code, true);
        }
    }

    abstract class Server_Manager
    {
        protected array $_config = [
            'ip' => null,
            'host' => null,
            'secure' => false,
            'username' => null,
            'password' => null,
            'accesshash' => null,
            'config' => null,
            'port' => null,
            'passwordLength' => null,
        ];
        private ?Psr\Log\LoggerInterface $_log = null;

        /** Copies each known option that is set (not null), then init(). */
        public function __construct(array $options)
        {
            foreach (['ip', 'host', 'secure', 'username', 'password', 'accesshash', 'passwordLength', 'ssl', 'config', 'port'] as $key) {
                if (isset($options[$key])) {
                    $this->_config[$key] = $key === 'secure' ? (bool) $options[$key] : $options[$key];
                }
            }
            $this->init();
        }

        protected function init()
        {
        }

        public static function getSecretFields(): array
        {
            return [];
        }

        /** FOSSBilling's default: 7 alphanumerics of the domain and one random digit. */
        public function generateUsername(string $domain)
        {
            $name = substr((string) preg_replace('/[^A-Za-z0-9]/', '', $domain), 0, 7);
            return ($this->_config['config']['userprefix'] ?? '') . $name . random_int(0, 9);
        }

        public function getPasswordLength(): int
        {
            return $this->_config['passwordLength'] ?? 10;
        }

        public function getLog(): ?Psr\Log\LoggerInterface
        {
            return $this->_log ?? new FossbillingStandIn\NullLogger();
        }

        public function setLog(Psr\Log\LoggerInterface $value): static
        {
            $this->_log = $value;
            return $this;
        }

        public function getHttpClient(): Symfony\Contracts\HttpClient\HttpClientInterface
        {
            throw new LogicException('the FOSSBilling stand-in has no Symfony HTTP client');
        }

        abstract public function getLoginUrl(?Server_Account $account);

        abstract public function getResellerLoginUrl(?Server_Account $account);

        abstract public function testConnection();

        abstract public function createAccount(Server_Account $account);

        abstract public function synchronizeAccount(Server_Account $account);

        abstract public function suspendAccount(Server_Account $account);

        abstract public function unsuspendAccount(Server_Account $account);

        abstract public function cancelAccount(Server_Account $account);

        abstract public function changeAccountPassword(Server_Account $account, string $newPassword);

        abstract public function changeAccountUsername(Server_Account $account, string $newUsername);

        abstract public function changeAccountDomain(Server_Account $account, string $newDomain);

        abstract public function changeAccountIp(Server_Account $account, string $newIp);

        abstract public function changeAccountPackage(Server_Account $account, Server_Package $package);
    }

    class Server_Account
    {
        private ?string $username = null;
        private ?string $password = null;
        private ?string $domain = null;
        private ?string $ip = null;
        private ?Server_Client $client = null;
        private ?Server_Package $package = null;
        private ?bool $reseller = null;
        private ?bool $suspended = null;
        private ?string $ns_1 = null;
        private ?string $ns_2 = null;
        private ?string $ns_3 = null;
        private ?string $ns_4 = null;
        private ?string $note = null;

        public function getUsername(): ?string
        {
            return $this->username;
        }

        public function setUsername(?string $username): static
        {
            $this->username = $username;
            return $this;
        }

        public function getPassword(): ?string
        {
            return $this->password;
        }

        public function setPassword(?string $password): static
        {
            $this->password = $password;
            return $this;
        }

        public function getDomain(): ?string
        {
            return $this->domain;
        }

        public function setDomain(?string $domain): static
        {
            $this->domain = $domain;
            return $this;
        }

        public function getIp(): ?string
        {
            return $this->ip;
        }

        public function setIp(?string $ip): static
        {
            $this->ip = $ip;
            return $this;
        }

        public function getClient(): ?Server_Client
        {
            return $this->client;
        }

        public function setClient(?Server_Client $client): static
        {
            $this->client = $client;
            return $this;
        }

        /** Not nullable, as FOSSBilling's: a TypeError when no package was set. */
        public function getPackage(): Server_Package
        {
            return $this->package;
        }

        public function setPackage(?Server_Package $package): static
        {
            $this->package = $package;
            return $this;
        }

        public function getNote(): ?string
        {
            return $this->note;
        }

        public function setNote(?string $note): static
        {
            $this->note = $note;
            return $this;
        }

        public function getReseller(): ?bool
        {
            return $this->reseller;
        }

        public function setReseller(bool $reseller): static
        {
            $this->reseller = $reseller;
            return $this;
        }

        public function getSuspended(): ?bool
        {
            return $this->suspended;
        }

        public function setSuspended(bool $suspended): static
        {
            $this->suspended = $suspended;
            return $this;
        }

        public function getNs1(): ?string
        {
            return $this->ns_1;
        }

        public function setNs1(?string $ns1): static
        {
            $this->ns_1 = $ns1;
            return $this;
        }

        public function getNs2(): ?string
        {
            return $this->ns_2;
        }

        public function setNs2(?string $ns2): static
        {
            $this->ns_2 = $ns2;
            return $this;
        }

        public function getNs3(): ?string
        {
            return $this->ns_3;
        }

        public function setNs3(?string $ns3): static
        {
            $this->ns_3 = $ns3;
            return $this;
        }

        public function getNs4(): ?string
        {
            return $this->ns_4;
        }

        public function setNs4(?string $ns4): static
        {
            $this->ns_4 = $ns4;
            return $this;
        }
    }

    class Server_Client
    {
        private ?int $id = null;
        private ?string $email = null;
        private ?string $first_name = 'FOSSBilling';
        private ?string $last_name = 'Client';
        private ?string $full_name = 'FOSSBilling Client';
        private ?string $company = 'FOSSBilling';
        private ?string $www = 'www.fossbilling.org';
        private ?string $address_1 = null;
        private ?string $address_2 = null;
        private ?string $street = null;
        private ?string $state = 'N/A';
        private ?string $country = 'US';
        private ?string $city = null;
        private ?string $zip = null;
        private ?string $telephone = null;
        private ?string $fax = null;

        /** An unknown method answers '' (FOSSBilling also logs it). */
        public function __call(string $name, array $arguments): string
        {
            return '';
        }

        public function getId(): ?int
        {
            return $this->id;
        }

        public function setId(int $id): static
        {
            $this->id = $id;
            return $this;
        }

        public function getFirstName(): ?string
        {
            return $this->first_name;
        }

        public function setFirstName(?string $firstName): static
        {
            $this->first_name = $firstName;
            return $this;
        }

        public function getLastName(): ?string
        {
            return $this->last_name;
        }

        public function setLastName(?string $lastName): static
        {
            $this->last_name = $lastName;
            return $this;
        }

        public function getFullName(): ?string
        {
            return $this->full_name;
        }

        public function setFullName(?string $fullName): static
        {
            $this->full_name = $fullName;
            return $this;
        }

        public function getCompany(): ?string
        {
            return $this->company;
        }

        public function setCompany(?string $company): static
        {
            $this->company = $company;
            return $this;
        }

        public function getEmail(): ?string
        {
            return $this->email;
        }

        public function setEmail(?string $email): static
        {
            $this->email = $email;
            return $this;
        }

        public function getAddress1(): ?string
        {
            return $this->address_1;
        }

        public function setAddress1(?string $address1): static
        {
            $this->address_1 = $address1;
            return $this;
        }

        public function getAddress2(): ?string
        {
            return $this->address_2;
        }

        public function setAddress2(?string $address2): static
        {
            $this->address_2 = $address2;
            return $this;
        }

        public function getStreet(): ?string
        {
            return $this->street;
        }

        public function setStreet(?string $street): static
        {
            $this->street = $street;
            return $this;
        }

        public function getCity(): ?string
        {
            return $this->city;
        }

        public function setCity(?string $city): static
        {
            $this->city = $city;
            return $this;
        }

        public function getState(): ?string
        {
            return $this->state;
        }

        public function setState(?string $state): static
        {
            $this->state = $state;
            return $this;
        }

        public function getCountry(): ?string
        {
            return $this->country;
        }

        public function setCountry(?string $country): static
        {
            $this->country = $country;
            return $this;
        }

        public function getZip(): ?string
        {
            return $this->zip;
        }

        public function setZip(?string $zip): static
        {
            $this->zip = $zip;
            return $this;
        }

        public function getTelephone(): ?string
        {
            return $this->telephone;
        }

        public function setTelephone(?string $telephone): static
        {
            $this->telephone = $telephone;
            return $this;
        }

        public function getFax(): ?string
        {
            return $this->fax;
        }

        public function setFax(?string $fax): static
        {
            $this->fax = $fax;
            return $this;
        }

        public function getWww(): ?string
        {
            return $this->www;
        }

        public function setWww(?string $www): static
        {
            $this->www = $www;
            return $this;
        }
    }

    class Server_Package
    {
        private ?string $name = 'FOSSBilling';
        private ?string $quota = null;
        private ?string $bandwidth = null;
        private ?string $maxDomains = null;
        private ?string $maxSubdomains = null;
        private ?string $maxParkedDomains = null;
        private ?string $maxFtp = null;
        private ?string $maxSql = null;
        private ?string $MaxPop = null;
        private array $custom = [];

        /** An unknown method (getCustomValues() among them) answers '' (FOSSBilling also logs it). */
        public function __call(string $name, array $arguments): string
        {
            return '';
        }

        public function setCustomValues(array $param): static
        {
            $this->custom = $param;
            return $this;
        }

        public function setCustomValue(string $param, ?string $value): static
        {
            $this->custom[$param] = $value;
            return $this;
        }

        public function getCustomValue(string $param): ?string
        {
            return $this->custom[$param] ?? null;
        }

        public function getName(): ?string
        {
            return $this->name;
        }

        public function setName(?string $name): static
        {
            $this->name = $name;
            return $this;
        }

        public function getQuota(): ?string
        {
            return $this->quota;
        }

        public function setQuota(?string $quota): static
        {
            $this->quota = $quota;
            return $this;
        }

        public function getBandwidth(): ?string
        {
            return $this->bandwidth;
        }

        public function setBandwidth(?string $bandwidth): static
        {
            $this->bandwidth = $bandwidth;
            return $this;
        }

        public function getMaxDomains(): ?string
        {
            return $this->maxDomains;
        }

        public function setMaxDomains(?string $maxDomains): static
        {
            $this->maxDomains = $maxDomains;
            return $this;
        }

        public function getMaxSubdomains(): ?string
        {
            return $this->maxSubdomains;
        }

        public function setMaxSubdomains(?string $maxSubdomains): static
        {
            $this->maxSubdomains = $maxSubdomains;
            return $this;
        }

        public function getMaxParkedDomains(): ?string
        {
            return $this->maxParkedDomains;
        }

        public function setMaxParkedDomains(?string $maxParkedDomains): static
        {
            $this->maxParkedDomains = $maxParkedDomains;
            return $this;
        }

        public function getMaxFtp(): ?string
        {
            return $this->maxFtp;
        }

        public function setMaxFtp(?string $maxFtp): static
        {
            $this->maxFtp = $maxFtp;
            return $this;
        }

        public function getMaxSql(): ?string
        {
            return $this->maxSql;
        }

        public function setMaxSql(?string $maxSql): static
        {
            $this->maxSql = $maxSql;
            return $this;
        }

        public function getMaxPop(): ?string
        {
            return $this->MaxPop;
        }

        public function setMaxPop(?string $maxPop): static
        {
            $this->MaxPop = $maxPop;
            return $this;
        }

        /** The disk quota again (FOSSBilling's alias), not a mailbox quota. */
        public function getMaxQuota(): ?string
        {
            return $this->quota;
        }

        public function setMaxQuota(?string $maxQuota): static
        {
            $this->quota = $maxQuota;
            return $this;
        }
    }
}
