<?php
/**
 * A test-only stand-in for the parts of WHMCS the isphooks modules use, written from WHMCS's
 * developer documentation (developers.whmcs.com): logModuleCall (which, like WHMCS, scrubs
 * the replace-vars from what it stores), localAPI with the commands the modules and their
 * hook call (ModuleCustom included: an admin's custom button, such as Repair), add_hook and the cron hook points, logActivity, WHMCS\Module\Queue,
 * WHMCS\Service\Status, and Capsule over an in-memory database (standin_db.php). A Module*
 * command builds the module parameters of a service from its rows (provisioning-modules/
 * module-parameters), runs the module function, and then does what WHMCS does with the
 * result: on success the service status changes and the queue rows of that action are
 * resolved; on failure the action is queued (a further failure bumps num_retries).
 * Everything the module does is recorded.
 *
 * As WHMCS does, it keeps server passwords encrypted (tblservers.password; EncryptPassword
 * and DecryptPassword of the local API) and decrypts them into the module parameters. Its
 * pages: a client-area page view runs the module's ClientArea and renders the template it
 * names (standin_smarty.php), and the usage-billing classes are WHMCS's documented ones
 * (standin_usage.php; left out with WHMCS_STANDIN_NO_USAGE_BILLING, as outside WHMCS).
 */

declare(strict_types=1);

namespace {
    require_once __DIR__ . '/standin_db.php';
    require_once __DIR__ . '/standin_smarty.php';
    if (!getenv('WHMCS_STANDIN_NO_USAGE_BILLING')) {
        require_once __DIR__ . '/standin_usage.php';
    }

    if (!defined('WHMCS')) {
        define('WHMCS', true);
    }

    final class WhmcsStandIn
    {
        public const SCRUBBED = '*****';
        /** How the stand-in "encrypts" (WHMCS's own cipher is its business): not plain text. */
        public const ENCRYPTED = 'standin-encrypted:';
        /** What a module action leaves the service in when it succeeds. */
        private const STATUS_AFTER = ['CreateAccount' => 'Active', 'SuspendAccount' => 'Suspended',
            'UnsuspendAccount' => 'Active', 'TerminateAccount' => 'Terminated'];
        private const COMMANDS = ['ModuleCreate' => 'CreateAccount', 'ModuleSuspend' => 'SuspendAccount',
            'ModuleUnsuspend' => 'UnsuspendAccount', 'ModuleTerminate' => 'TerminateAccount',
            'ModuleChangePackage' => 'ChangePackage', 'ModuleChangePw' => 'ChangePassword'];

        /** @var array<string, list<array<string, mixed>>> table => rows */
        public static array $db = [];
        /** @var array<string, list<array<string, mixed>>> table => columns made by Capsule::schema() */
        public static array $schemas = [];
        /** @var array<string, string> table => the error any query on it raises */
        public static array $broken = [];
        /** @var list<array<string, string>> module log entries as WHMCS stores them */
        public static array $moduleLog = [];
        /** @var list<list<string>> the replace-vars of each entry (for PHPUnit; never printed) */
        public static array $replaceVars = [];
        /** @var list<array{command: string, values: array}> */
        public static array $localApi = [];
        /** @var array<string, array> command => the answer localAPI gives instead of its own */
        public static array $localApiAnswers = [];
        /** @var list<array{table: string, where: array, values: array, matched: int}> */
        public static array $updates = [];
        /** @var array<string, list<array{0: int, 1: callable}>> hook point => [priority, fn] */
        public static array $hooks = [];
        /** @var list<array{serviceid: int, function: string, result: mixed}> module calls run */
        public static array $moduleCalls = [];
        /** @var array<string, int> table => queries that read it (get, first, value, count) */
        public static array $reads = [];
        public static string $modulesRoot = __DIR__ . '/../../integrations/whmcs';

        public static function reset(): void
        {
            self::$db = self::$broken = self::$moduleLog = self::$replaceVars = [];
            self::$localApi = self::$localApiAnswers = self::$updates = self::$hooks = [];
            self::$moduleCalls = self::$schemas = self::$reads = [];
        }

        public static function encrypt(string $plain): string
        {
            return self::ENCRYPTED . base64_encode(strrev($plain));
        }

        /** Like WHMCS's decryption of a value it did not encrypt: no plain text comes out. */
        public static function decrypt(string $stored): string
        {
            return str_starts_with($stored, self::ENCRYPTED)
                ? strrev((string) base64_decode(substr($stored, strlen(self::ENCRYPTED)), true)) : '';
        }

        /** The database as WHMCS keeps it: server passwords encrypted. */
        public static function load(array $tables): void
        {
            foreach ($tables['tblservers'] ?? [] as $i => $server) {
                if (isset($server['password']) && !str_starts_with((string) $server['password'], self::ENCRYPTED)) {
                    $tables['tblservers'][$i]['password'] = self::encrypt((string) $server['password']);
                }
            }
            self::$db = $tables;
        }

        /** The server parameters WHMCS passes to a server function (Test Connection, the server
         *  page, Usage Update, usage billing): the server's row, its password decrypted. */
        public static function serverParams(int $serverId): array
        {
            $server = self::row('tblservers', $serverId) ?? throw new \RuntimeException('Server ID not found');
            return [
                'serverid' => $serverId, 'server' => true, 'serverip' => (string) ($server['ipaddress'] ?? ''),
                'serverhostname' => (string) ($server['hostname'] ?? ''), 'serverusername' => (string) ($server['username'] ?? ''),
                'serverpassword' => self::decrypt((string) ($server['password'] ?? '')),
                'serveraccesshash' => (string) ($server['accesshash'] ?? ''),
                'serversecure' => (string) ($server['secure'] ?? ''), 'serverport' => (string) ($server['port'] ?? ''),
            ];
        }

        /**
         * WHMCS's usage billing: the module's MetricProvider for a server, asked for its
         * metrics (as on the product page), for every tenant's usage, or one tenant's; the
         * answer as data (each metric's system name, display name, type, unit, usage).
         */
        public static function metrics(array $ask): array
        {
            $module = (string) $ask['module'];
            $params = isset($ask['serverid']) ? self::serverParams((int) $ask['serverid']) : [];
            $provider = ($module . '_MetricProvider')($params);
            if (!$provider instanceof \WHMCS\UsageBilling\Contracts\Metrics\ProviderInterface) {
                throw new \RuntimeException('MetricProvider did not return a ProviderInterface');
            }
            $describe = function (array $metrics): array {
                $out = [];
                foreach ($metrics as $key => $metric) {
                    if (!$metric instanceof \WHMCS\UsageBilling\Contracts\Metrics\MetricInterface) {
                        throw new \RuntimeException('not a MetricInterface');
                    }
                    $usage = $metric->usage();
                    $out[] = ['key' => $key, 'system_name' => $metric->systemName(),
                        'display_name' => $metric->displayName(), 'type' => $metric->type(),
                        'unit' => $metric->units() === null ? null : get_class($metric->units()),
                        'unit_name' => $metric->units()?->name(), 'usage' => $usage?->value()];
                }
                return $out;
            };
            return match ((string) $ask['call']) {
                'metrics' => $describe($provider->metrics()),
                'usage' => array_map($describe, $provider->usage()),
                'tenantUsage' => $describe($provider->tenantUsage((string) $ask['tenant'])),
            };
        }

        /**
         * A client-area page view of a service: the module's ClientArea with the service's
         * parameters, and the template it names rendered from the module's folder.
         */
        public static function clientAreaPage(int $serviceId): array
        {
            $params = self::moduleParams($serviceId);
            $module = $params['moduletype'];
            $output = ($module . '_ClientArea')($params);
            $file = self::$modulesRoot . '/modules/servers/' . $module . '/' . $output['templatefile'] . '.tpl';
            $html = StandInSmarty::render((string) file_get_contents($file), (array) ($output['vars'] ?? []));
            return ['output' => $output, 'html' => $html];
        }

        public static function text(mixed $value): string
        {
            return is_string($value) ? $value : print_r($value, true);
        }

        /** WHMCS keeps its datetimes as 'Y-m-d H:i:s' in the installation's time zone. */
        public static function now(int $offsetS = 0): string
        {
            return date('Y-m-d H:i:s', time() + $offsetS);
        }

        public static function row(string $table, int $id): ?array
        {
            foreach (self::$db[$table] ?? [] as $row) {
                if ((int) ($row['id'] ?? 0) === $id) {
                    return $row;
                }
            }
            return null;
        }

        public static function runHook(string $hook, array $vars = []): void
        {
            $hooks = self::$hooks[$hook] ?? [];
            usort($hooks, fn (array $a, array $b): int => $a[0] <=> $b[0]);
            foreach ($hooks as [, $fn]) {
                $fn($vars);
            }
        }

        /** The module parameters WHMCS passes for a service (its product, server and client). */
        public static function moduleParams(int $serviceId): array
        {
            $service = self::row('tblhosting', $serviceId) ?? throw new \RuntimeException('Service ID not found');
            $product = self::row('tblproducts', (int) ($service['packageid'] ?? 0)) ?? [];
            $server = self::row('tblservers', (int) ($service['server'] ?? 0)) ?? [];
            $client = self::row('tblclients', (int) ($service['userid'] ?? 0)) ?? [];
            $params = [
                'serviceid' => $serviceId, 'userid' => (int) ($service['userid'] ?? 0),
                'pid' => (int) ($service['packageid'] ?? 0), 'serverid' => (int) ($service['server'] ?? 0),
                'domain' => (string) ($service['domain'] ?? ''), 'username' => (string) ($service['username'] ?? ''),
                'password' => (string) ($service['password'] ?? ''),
                'producttype' => (string) ($product['type'] ?? 'hostingaccount'),
                'moduletype' => (string) ($product['servertype'] ?? ''), 'status' => (string) ($service['domainstatus'] ?? ''),
                'clientsdetails' => $client, 'configoptions' => self::configOptions($serviceId),
            ] + ($server !== [] ? self::serverParams((int) $server['id']) : ['server' => false]);
            for ($i = 1; $i <= 24; $i++) {
                $params['configoption' . $i] = (string) ($product['configoption' . $i] ?? '');
            }
            return $params;
        }

        /** @return array<string, string> the service's configurable options, by option name */
        private static function configOptions(int $serviceId): array
        {
            $options = [];
            foreach (self::$db['isphooks_standin_configoptions'] ?? [] as $row) {
                if ((int) $row['serviceid'] === $serviceId) {
                    $options[(string) $row['name']] = (string) $row['value'];
                }
            }
            return $options;
        }

        /** Run a module function for a service as a Module* API command does. */
        public static function moduleCommand(string $command, array $values): array
        {
            $function = self::COMMANDS[$command];
            $serviceId = (int) ($values['serviceid'] ?? $values['accountid'] ?? 0);
            $service = self::row('tblhosting', $serviceId);
            if ($service === null) {
                return ['result' => 'error', 'message' => 'Service ID not found'];
            }
            if ($function === 'ChangePassword' && isset($values['servicepassword'])) {
                // the new password is the service's from now on, whatever the module answers
                WHMCS\Database\Capsule::table('tblhosting')->where('id', $serviceId)
                    ->update(['password' => (string) $values['servicepassword']]);
            }
            $params = self::moduleParams($serviceId);
            $module = $params['moduletype'];
            if ($module === '') {
                return ['result' => 'error', 'message' => 'Service not assigned to a module'];
            }
            if ($function === 'SuspendAccount') {
                $params['suspendreason'] = (string) ($values['suspendreason'] ?? '');
            }
            $file = self::$modulesRoot . '/modules/servers/' . $module . '/' . $module . '.php';
            if (!function_exists($module . '_' . $function)) {
                require_once $file;
            }
            $result = ($module . '_' . $function)($params);
            self::$moduleCalls[] = ['serviceid' => $serviceId, 'function' => $function, 'result' => $result];
            if ($result === 'success') {
                $update = isset(self::STATUS_AFTER[$function]) ? ['domainstatus' => self::STATUS_AFTER[$function]] : [];
                if ($update !== []) {
                    WHMCS\Database\Capsule::table('tblhosting')->where('id', $serviceId)->update($update);
                }
                WHMCS\Module\Queue::resolve('service', $serviceId, $module, $function);
                return ['result' => 'success'];
            }
            WHMCS\Module\Queue::add('service', $serviceId, $module, $function, (string) $result);
            return ['result' => 'error', 'message' => (string) $result];
        }

        public static function api(string $command, array $values): array
        {
            if (isset(self::COMMANDS[$command])) {
                return self::moduleCommand($command, $values);
            }
            return match ($command) {
                'GetClientsProducts' => self::clientsProducts($values),
                'GetInvoices' => self::invoices($values),
                'GetInvoice' => self::invoice($values),
                'ModuleCustom' => self::moduleCustom($values),
                'UpdateClientProduct' => self::updateClientProduct($values),
                'EncryptPassword' => ['result' => 'success', 'password' => self::encrypt((string) ($values['password2'] ?? ''))],
                'DecryptPassword' => ['result' => 'success', 'password' => self::decrypt((string) ($values['password2'] ?? ''))],
                default => ['result' => 'success'],
            };
        }

        private static function clientsProducts(array $values): array
        {
            $products = [];
            foreach (self::$db['tblhosting'] ?? [] as $row) {
                if (isset($values['serviceid']) && (int) $row['id'] !== (int) $values['serviceid']) {
                    continue;
                }
                $products[] = ['id' => (int) $row['id'], 'clientid' => (int) ($row['userid'] ?? 0),
                    'pid' => (int) ($row['packageid'] ?? 0), 'serverid' => (int) ($row['server'] ?? 0),
                    'domain' => (string) ($row['domain'] ?? ''), 'username' => (string) ($row['username'] ?? ''),
                    'status' => (string) ($row['domainstatus'] ?? '')];
            }
            return ['result' => 'success', 'totalresults' => count($products),
                'products' => ['product' => $products]];
        }

        private static function invoices(array $values): array
        {
            $invoices = [];
            foreach (self::$db['tblinvoices'] ?? [] as $row) {
                $status = (string) $row['status'];
                $overdue = $status === 'Unpaid' && (string) $row['duedate'] < date('Y-m-d');
                $wanted = (string) ($values['status'] ?? '');
                if ((isset($values['userid']) && (int) $row['userid'] !== (int) $values['userid'])
                    || ($wanted === 'Overdue' ? !$overdue : ($wanted !== '' && $wanted !== $status))) {
                    continue;
                }
                $invoices[] = ['id' => (int) $row['id'], 'userid' => (int) $row['userid'],
                    'duedate' => (string) $row['duedate'], 'status' => $status];
            }
            // orderby (id, duedate, status; the documentation names no default: id here) and
            // order; then one page: limitstart (default 0), limitnum (default 25)
            $by = in_array($values['orderby'] ?? '', ['id', 'duedate', 'status'], true) ? $values['orderby'] : 'id';
            usort($invoices, fn (array $a, array $b): int => strtolower((string) ($values['order'] ?? 'asc')) === 'desc'
                ? $b[$by] <=> $a[$by] : $a[$by] <=> $b[$by]);
            $start = max(0, (int) ($values['limitstart'] ?? 0));
            $page = array_slice($invoices, $start, max(0, (int) ($values['limitnum'] ?? 25)));
            return ['result' => 'success', 'totalresults' => count($invoices), 'startnumber' => $start,
                'numreturned' => count($page), 'invoices' => ['invoice' => $page]];
        }

        /** ModuleCustom: a custom function of the service's module (an admin's custom button),
         *  run with the service's parameters; its answer as WHMCS gives it. Nothing is queued. */
        private static function moduleCustom(array $values): array
        {
            $serviceId = (int) ($values['serviceid'] ?? 0);
            if (self::row('tblhosting', $serviceId) === null) {
                return ['result' => 'error', 'message' => 'Service ID not found'];
            }
            $params = self::moduleParams($serviceId);
            $function = $params['moduletype'] . '_' . (string) ($values['func_name'] ?? '');
            if (!function_exists($function)) {
                return ['result' => 'error', 'message' => 'Function Not Supported by Module'];
            }
            $result = $function($params);
            self::$moduleCalls[] = ['serviceid' => $serviceId, 'function' => (string) $values['func_name'],
                'result' => $result];
            return $result === 'success' ? ['result' => 'success'] : ['result' => 'error', 'message' => (string) $result];
        }

        private static function invoice(array $values): array
        {
            $invoice = self::row('tblinvoices', (int) ($values['invoiceid'] ?? 0));
            if ($invoice === null) {
                return ['result' => 'error', 'message' => 'Invoice ID Not Found'];
            }
            $items = [];
            foreach (self::$db['tblinvoiceitems'] ?? [] as $item) {
                if ((int) $item['invoiceid'] === (int) $invoice['id']) {
                    $items[] = ['id' => (int) $item['id'], 'type' => (string) $item['type'],
                        'relid' => (int) $item['relid'], 'description' => (string) ($item['description'] ?? '')];
                }
            }
            return ['result' => 'success', 'invoiceid' => (int) $invoice['id'], 'status' => (string) $invoice['status'],
                'duedate' => (string) $invoice['duedate'], 'items' => ['item' => $items]];
        }

        private static function updateClientProduct(array $values): array
        {
            $update = [];
            foreach (['serviceusername' => 'username', 'servicepassword' => 'password', 'domain' => 'domain'] as $key => $column) {
                if (isset($values[$key])) {
                    $update[$column] = $values[$key];
                }
            }
            if ($update !== [] && self::row('tblhosting', (int) ($values['serviceid'] ?? 0)) !== null) {
                WHMCS\Database\Capsule::table('tblhosting')->where('id', (int) $values['serviceid'])->update($update);
            }
            return ['result' => 'success', 'serviceid' => (int) ($values['serviceid'] ?? 0)];
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
        return WhmcsStandIn::$localApiAnswers[$command] ?? WhmcsStandIn::api($command, $values);
    }

    function add_hook(string $hookPoint, int $priority, callable $function): void
    {
        WhmcsStandIn::$hooks[$hookPoint][] = [$priority, $function];
    }

    function logActivity(string $message, int $userId = 0): void
    {
        WHMCS\Database\Capsule::table('tblactivitylog')->insert(['date' => WhmcsStandIn::now(),
            'description' => $message, 'user' => 'System', 'userid' => $userId]);
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

namespace WHMCS\Module {
    use WHMCS\Database\Capsule;

    /** The module queue (classes/whmcs/module/queue): incomplete failed actions. */
    final class Queue
    {
        public static function add(string $serviceType, int $serviceId, string $module, string $moduleAction,
            string $lastAttemptError): bool
        {
            $now = \WhmcsStandIn::now();
            $query = Capsule::table('tblmodulequeue')->where('service_type', $serviceType)
                ->where('service_id', $serviceId)->where('module_name', $module)
                ->where('module_action', $moduleAction)->where('completed', 0);
            $row = $query->first();
            if ($row !== null) {
                Capsule::table('tblmodulequeue')->where('id', $row->id)->update(['last_attempt' => $now,
                    'last_attempt_error' => $lastAttemptError, 'num_retries' => (int) $row->num_retries + 1,
                    'updated_at' => $now]);
                return true;
            }
            Capsule::table('tblmodulequeue')->insert(['service_type' => $serviceType, 'service_id' => $serviceId,
                'module_name' => $module, 'module_action' => $moduleAction, 'last_attempt' => $now,
                'last_attempt_error' => $lastAttemptError, 'num_retries' => 0, 'completed' => 0,
                'created_at' => $now, 'updated_at' => $now]);
            return true;
        }

        public static function resolve(string $serviceType, int $serviceId, string $module, string $moduleAction): bool
        {
            Capsule::table('tblmodulequeue')->where('service_type', $serviceType)->where('service_id', $serviceId)
                ->where('module_name', $module)->where('module_action', $moduleAction)->where('completed', 0)
                ->update(['completed' => 1, 'updated_at' => \WhmcsStandIn::now()]);
            return true;
        }
    }
}
