<?php
/**
 * Runs the isphooks server manager in php-cli, as FOSSBilling's hosting service would, for
 * the end-to-end tests: constructs Server_Manager_Isphooks with a server's settings (the
 * array FOSSBilling's Servicehosting\Service::getServerManager builds), sets a logger, and
 * calls its methods with Server_Account / Server_Client / Server_Package objects built from
 * JSON, as _getAM builds them.
 *
 * stdin: {"server": {ip, host, port, secure, username, password, accesshash, config,
 *                    passwordLength},
 *         "count_requests"?: bool — send through a transport that counts, then uses curl,
 *         "calls": [{"method", "account"?: {…} | null, "package"?: {…}, "arg"?: string}]}
 * An account: {username, password, domain, ip, reseller, note, ns1..ns4,
 *              client: {email, first_name, …}, package: {name, quota, bandwidth,
 *              max_domains, max_subdomains, max_parked_domains, max_ftp, max_sql, max_pop,
 *              custom: {…}}}.
 * Besides the manager's methods: "activate" does what FOSSBilling's action_activate does
 * before createAccount — the username from generateUsername(sld . tld) unless the account
 * has one, a new password of getPasswordLength() characters unless it has one — and answers
 * {username, password}; "idn" answers Idn/Identity of `arg` (a domain) for the reference test.
 * stdout: {"constructed", "error"?, "results": [{"value"} | {"exception", "message", "code"}],
 *          "log": [{level, message, context}], "requests": [{action, url}],
 *          "fossbilling": the file Server_Manager came from (the stand-in, or FOSSBilling's)}
 *
 * ISPHOOKS_FOSSBILLING_BOOTSTRAP: a file that loads FOSSBilling's classes in place of
 * standin.php (the real ones, for a check by hand); ISPHOOKS_FOSSBILLING_MANAGER: another
 * copy of Isphooks.php (the one unpacked from the archive).
 */

declare(strict_types=1);

namespace FossbillingRun {

    ini_set('display_errors', 'stderr');
    error_reporting(E_ALL);
    set_error_handler(function (int $no, string $message, string $file, int $line): bool {
        throw new \ErrorException($message, 0, $no, $file, $line);
    });

    require getenv('ISPHOOKS_FOSSBILLING_BOOTSTRAP') ?: __DIR__ . '/standin.php';
    require getenv('ISPHOOKS_FOSSBILLING_MANAGER') ?: dirname(__DIR__, 2) . '/integrations/fossbilling/Isphooks.php';

    /** FOSSBilling's logger, as far as a manager sees it (PSR-3): every record kept. */
    final class Logger implements \Psr\Log\LoggerInterface
    {
        public array $records = [];

        public function emergency(string|\Stringable $message, array $context = []): void
        {
            $this->log('emergency', $message, $context);
        }

        public function alert(string|\Stringable $message, array $context = []): void
        {
            $this->log('alert', $message, $context);
        }

        public function critical(string|\Stringable $message, array $context = []): void
        {
            $this->log('critical', $message, $context);
        }

        public function error(string|\Stringable $message, array $context = []): void
        {
            $this->log('error', $message, $context);
        }

        public function warning(string|\Stringable $message, array $context = []): void
        {
            $this->log('warning', $message, $context);
        }

        public function notice(string|\Stringable $message, array $context = []): void
        {
            $this->log('notice', $message, $context);
        }

        public function info(string|\Stringable $message, array $context = []): void
        {
            $this->log('info', $message, $context);
        }

        public function debug(string|\Stringable $message, array $context = []): void
        {
            $this->log('debug', $message, $context);
        }

        public function log($level, string|\Stringable $message, array $context = []): void
        {
            $this->records[] = ['level' => (string) $level, 'message' => (string) $message, 'context' => $context];
        }
    }

    function package(array $spec): \Server_Package
    {
        $package = new \Server_Package();
        $package->setCustomValues((array) ($spec['custom'] ?? []));
        $setters = ['name' => 'setName', 'quota' => 'setQuota', 'bandwidth' => 'setBandwidth',
            'max_domains' => 'setMaxDomains', 'max_subdomains' => 'setMaxSubdomains',
            'max_parked_domains' => 'setMaxParkedDomains', 'max_ftp' => 'setMaxFtp', 'max_sql' => 'setMaxSql',
            'max_pop' => 'setMaxPop'];
        foreach ($setters as $key => $setter) {
            if (array_key_exists($key, $spec)) {
                $package->$setter($spec[$key] === null ? null : (string) $spec[$key]);
            }
        }
        return $package;
    }

    /** As Servicehosting's _getAM builds it. */
    function account(?array $spec): ?\Server_Account
    {
        if ($spec === null) {
            return null;
        }
        $client = new \Server_Client();
        foreach ((array) ($spec['client'] ?? []) as $key => $value) {
            $setter = 'set' . str_replace('_', '', ucwords((string) $key, '_'));
            $client->$setter($value === null ? null : (string) $value);
        }
        $account = new \Server_Account();
        $account->setClient($client)->setReseller((bool) ($spec['reseller'] ?? false));
        if (isset($spec['package'])) {
            $account->setPackage(package((array) $spec['package']));
        }
        foreach (['username' => 'setUsername', 'password' => 'setPassword', 'domain' => 'setDomain', 'ip' => 'setIp',
            'note' => 'setNote', 'ns1' => 'setNs1', 'ns2' => 'setNs2', 'ns3' => 'setNs3', 'ns4' => 'setNs4'] as $key => $setter) {
            if (array_key_exists($key, $spec)) {
                $account->$setter($spec[$key] === null ? null : (string) $spec[$key]);
            }
        }
        return $account;
    }

    function dump(mixed $value): mixed
    {
        if ($value instanceof \Server_Account) {
            $package = null;
            try {
                $package = $value->getPackage();
            } catch (\TypeError) {
            }
            return ['username' => $value->getUsername(), 'domain' => $value->getDomain(), 'ip' => $value->getIp(),
                'reseller' => $value->getReseller(), 'suspended' => $value->getSuspended(),
                'package' => $package?->getName(), 'password_set' => $value->getPassword() !== null];
        }
        return $value;
    }

    /** FOSSBilling's Tools::generatePassword(length, true), in its own words: letters, digits, specials. */
    function password(int $length): string
    {
        $sets = ['abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '0123456789', '!@#$%&?()+-_'];
        $all = implode('', $sets);
        $chars = [];
        foreach ($sets as $set) {
            $chars[] = $set[random_int(0, strlen($set) - 1)];
        }
        while (count($chars) < $length) {
            $chars[] = $all[random_int(0, strlen($all) - 1)];
        }
        shuffle($chars);
        return implode('', $chars);
    }

    function call(\Server_Manager_Isphooks $manager, array $call): mixed
    {
        $method = (string) $call['method'];
        $account = account(array_key_exists('account', $call) ? $call['account'] : []);
        $arg = (string) ($call['arg'] ?? '');
        switch ($method) {
            case 'activate':
                if ((string) $account->getUsername() === '') {
                    $account->setUsername($manager->generateUsername((string) $account->getDomain()));
                }
                if ((string) $account->getPassword() === '') {
                    $account->setPassword(password($manager->getPasswordLength()));
                }
                $manager->createAccount($account);
                return ['username' => $account->getUsername(), 'password' => $account->getPassword()];
            case 'idn':
                return ['a_label' => \IsphooksFossbilling\Idn::toAscii($arg),
                    'username' => $manager->generateUsername($arg)];
            case 'getForm':
            case 'getSecretFields':
                return $manager::$method();
            case 'generateUsername':
            case 'changeAccountPassword':
            case 'changeAccountUsername':
            case 'changeAccountDomain':
            case 'changeAccountIp':
                return $method === 'generateUsername' ? $manager->generateUsername($arg) : $manager->$method($account, $arg);
            case 'changeAccountPackage':
                return $manager->changeAccountPackage($account, package((array) ($call['package'] ?? [])));
            case 'testConnection':
                return $manager->testConnection();
            case 'getPasswordLength':
                return $manager->getPasswordLength();
            case 'getLoginUrl':
            case 'getResellerLoginUrl':
            case 'createAccount':
            case 'synchronizeAccount':
            case 'suspendAccount':
            case 'unsuspendAccount':
            case 'cancelAccount':
                return dump($manager->$method($account));
        }
        throw new \InvalidArgumentException('unknown method ' . $method);
    }

    $spec = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
    $logger = new Logger();
    $requests = [];
    $out = ['constructed' => false, 'results' => []];
    try {
        $manager = new \Server_Manager_Isphooks((array) ($spec['server'] ?? []));
        $manager->setLog($logger);
        $out['constructed'] = true;
    } catch (\Server_Exception $error) {
        $out['error'] = ['exception' => get_class($error), 'message' => $error->getMessage(), 'code' => $error->getCode()];
    }
    if ($out['constructed']) {
        if (!empty($spec['count_requests'])) {
            $manager->setTransport(function (\IsphooksFossbilling\Exchange $exchange, array $headers, int $timeout) use (&$requests): void {
                $requests[] = ['action' => $exchange->action, 'url' => $exchange->url];
                \IsphooksFossbilling\Client::curlTransport($exchange, $headers, $timeout);
            });
        }
        foreach ((array) ($spec['calls'] ?? []) as $call) {
            try {
                $out['results'][] = ['value' => call($manager, (array) $call)];
            } catch (\Server_Exception $error) {
                $out['results'][] = ['exception' => get_class($error), 'message' => $error->getMessage(),
                    'code' => $error->getCode()];
            }
        }
    }
    $out['log'] = $logger->records;
    $out['requests'] = $requests;
    $out['fossbilling'] = (string) (new \ReflectionClass(\Server_Manager::class))->getFileName();
    echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
}
