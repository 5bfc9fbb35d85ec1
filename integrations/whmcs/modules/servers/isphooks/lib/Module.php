<?php
/**
 * The WHMCS module functions of isphooks and isphooks_reseller: each one is one signed
 * isphooks request, logged with logModuleCall, answered in WHMCS's return conventions.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Client.php';
require_once __DIR__ . '/Plan.php';

use WHMCS\Database\Capsule;
use WHMCS\Service\Status;

final class Module
{
    public const ADOPT_BUTTON = 'Adopt existing account';
    private const MASK = '********';
    private const SECRET_KEYS = ['password', 'url'];

    /** @var callable|null a transport for tests; null: curl */
    public $transport = null;

    public function __construct(
        public readonly string $name,
        public readonly string $kind,
        public readonly string $displayName,
    ) {
    }

    public static function user(): self
    {
        static $module = null;
        return $module ??= new self('isphooks', 'user', 'isphooks (ISPmanager hosting account)');
    }

    public static function reseller(): self
    {
        static $module = null;
        return $module ??= new self('isphooks_reseller', 'reseller', 'isphooks (ISPmanager reseller account)');
    }

    public function metaData(): array
    {
        return [
            'DisplayName' => $this->displayName,
            'APIVersion' => '1.1',
            'RequiresServer' => true,
            'ServiceSingleSignOnLabel' => 'Log in to ISPmanager',
            'AdminSingleSignOnLabel' => 'Log in to ISPmanager as administrator',
            'ListAccountsUniqueIdentifierDisplayName' => 'Username',
            'ListAccountsUniqueIdentifierField' => 'username',
            'ListAccountsProductField' => 'configoption1',
        ];
    }

    public function configOptions(): array
    {
        return Plan::configOptions($this->kind);
    }

    public function adminCustomButtonArray(): array
    {
        return [self::ADOPT_BUTTON => 'AdoptAccount'];
    }

    // -- account actions: "success" or an error string ----------------------------------------

    public function createAccount(array $params): string
    {
        return $this->guard($params, 'create', function () use ($params): string {
            $plan = Plan::fromParams($params, $this->kind, true);
            $body = ['service_id' => self::serviceId($params), 'server' => self::server($params),
                'kind' => $this->kind];
            if (!isset($plan['username_template'])) {
                $body['username'] = self::username($params);
            }
            $password = (string) ($params['password'] ?? '');
            if ($password !== '') {
                $body['password'] = $password;
            }
            $domain = strtolower(trim((string) ($params['domain'] ?? '')));
            if ($domain !== '') {
                $body['domain'] = $domain;
            }
            $email = trim((string) ($params['clientsdetails']['email'] ?? ''));
            if ($email !== '') {
                $body['email'] = $email;
            }
            $body['plan'] = $plan;
            $ips = Plan::ips($params);
            if ($ips !== null) {
                $body['ips'] = $ips;
            }
            $answer = $this->request($params, 'create', $body, [$password]);
            return $this->writeBack($params, $answer);
        });
    }

    public function suspendAccount(array $params): string
    {
        return $this->guard($params, 'suspend', function () use ($params): string {
            $body = $this->account($params);
            $reason = (string) preg_replace('/[^\x21-\x7e]+/', ' ', (string) ($params['suspendreason'] ?? ''));
            $reason = trim($reason);
            if ($reason !== '') {
                $body['reason'] = substr($reason, 0, 200);
            }
            $this->request($params, 'suspend', $body);
            return 'success';
        });
    }

    public function unsuspendAccount(array $params): string
    {
        return $this->guard($params, 'unsuspend', function () use ($params): string {
            $this->request($params, 'unsuspend', $this->account($params));
            return 'success';
        });
    }

    public function terminateAccount(array $params): string
    {
        return $this->guard($params, 'terminate', function () use ($params): string {
            $this->request($params, 'terminate', $this->account($params));
            return 'success';
        });
    }

    public function changePackage(array $params): string
    {
        return $this->guard($params, 'upgrade', function () use ($params): string {
            $body = $this->account($params) + ['plan' => Plan::fromParams($params, $this->kind, false)];
            $this->request($params, 'upgrade', $body);
            return 'success';
        });
    }

    /** Also reachable from the client area: never adopts. */
    public function changePassword(array $params): string
    {
        return $this->guard($params, 'password', function () use ($params): string {
            $password = (string) ($params['password'] ?? '');
            $this->request($params, 'password', $this->account($params) + ['password' => $password], [$password]);
            return 'success';
        });
    }

    /**
     * The admin button: write this service's marker into an account made by the old module.
     * `adopt` is accepted by `sso` and `password` only; `sso` changes nothing else on the
     * account (a password change would), so the one-time URL it mints is discarded unused.
     */
    public function adoptAccount(array $params): string
    {
        return $this->guard($params, 'sso', function () use ($params): string {
            $this->request($params, 'sso', $this->account($params) + ['as' => 'user', 'adopt' => true]);
            return 'success';
        });
    }

    // -- server functions ------------------------------------------------------------------

    public function testConnection(array $params): array
    {
        try {
            $server = self::server($params);
            $answer = $this->request($params, 'check', ['server' => $server]);
            $report = self::serverReport($answer, $server);
            if (!($report['ok'] ?? false)) {
                return ['success' => false, 'error' => 'isphooks check: ' . $server . ': '
                    . IsphooksError::oneLine((string) ($report['error'] ?? 'not reachable'))];
            }
            $edition = (string) ($report['edition'] ?? '');
            if ($this->kind === 'reseller' && !in_array($edition, ['host', 'business'], true)) {
                return ['success' => false, 'error' => 'isphooks check: ' . $server . ' is the ' . $edition
                    . ' edition, which has no resellers (host or business needed)'];
            }
            return ['success' => true, 'error' => ''];
        } catch (\Throwable $error) {
            return ['success' => false, 'error' => $this->failure($params, 'check', $error)];
        }
    }

    /** Client area and admin area alike: never adopts. */
    public function serviceSingleSignOn(array $params): array
    {
        return $this->singleSignOn($params, fn (): array => $this->account($params) + ['as' => 'user']);
    }

    public function adminSingleSignOn(array $params): array
    {
        return $this->singleSignOn($params, fn (): array => ['server' => self::server($params), 'as' => 'admin']);
    }

    private function singleSignOn(array $params, callable $body): array
    {
        try {
            $answer = $this->request($params, 'sso', $body());
            return ['success' => true, 'redirectTo' => (string) $answer['url']];
        } catch (\Throwable $error) {
            return ['success' => false, 'errorMsg' => $this->failure($params, 'sso', $error)];
        }
    }

    /** Disk and traffic of this server's accounts into tblhosting, as WHMCS's own sample does. */
    public function usageUpdate(array $params): string
    {
        return $this->guard($params, 'usage', function () use ($params): string {
            $serverId = (int) ($params['serverid'] ?? 0);
            foreach ($this->accounts($params) as $account) {
                $query = Capsule::table('tblhosting')->where('server', $serverId);
                $serviceId = (string) ($account['service_id'] ?? '');
                if (ctype_digit($serviceId)) {
                    $query = $query->where('id', (int) $serviceId);
                } else {
                    // No marker yet (an old module's account): the WHMCS username is the login.
                    $query = $query->where('username', (string) $account['username']);
                }
                $query->update([
                    'diskusage' => (int) ($account['disk_used_mib'] ?? 0),
                    'disklimit' => (int) ($account['disk_limit_mib'] ?? 0),
                    'bwusage' => (int) ($account['traffic_used_mib'] ?? 0),
                    'bwlimit' => (int) ($account['traffic_limit_mib'] ?? 0),
                    'lastupdate' => Capsule::raw('now()'),
                ]);
            }
            return 'success';
        });
    }

    /** For WHMCS's Server Sync tool. isphooks reports no template, domain or creation date. */
    public function listAccounts(array $params): array
    {
        try {
            $accounts = [];
            foreach ($this->accounts($params) as $account) {
                $accounts[] = [
                    'name' => (string) $account['username'],
                    'email' => '',
                    'username' => (string) $account['username'],
                    'domain' => '',
                    'uniqueIdentifier' => (string) $account['username'],
                    'product' => '',
                    'primaryip' => '',
                    'created' => '',
                    'status' => ($account['suspended'] ?? false) ? Status::SUSPENDED : Status::ACTIVE,
                ];
            }
            return ['success' => true, 'accounts' => $accounts];
        } catch (\Throwable $error) {
            return ['success' => false, 'error' => $this->failure($params, 'usage', $error)];
        }
    }

    /** @return list<array<string, mixed>> this module's kind of accounts on this server */
    private function accounts(array $params): array
    {
        $server = self::server($params);
        $report = self::serverReport($this->request($params, 'usage', ['server' => $server]), $server);
        if (($report['error'] ?? null) !== null) {
            throw new IsphooksError('usage', $server . ': ' . (string) $report['error'], true);
        }
        $accounts = [];
        foreach ((array) ($report['accounts'] ?? []) as $account) {
            if (is_array($account) && ($account['kind'] ?? $this->kind) === $this->kind) {
                $accounts[] = $account;
            }
        }
        return $accounts;
    }

    private static function serverReport(array $answer, string $server): array
    {
        foreach ((array) ($answer['servers'] ?? []) as $report) {
            if (is_array($report) && ($report['server'] ?? null) === $server) {
                return $report;
            }
        }
        throw new IsphooksError('bad_response', 'the answer does not report server ' . $server, false);
    }

    // -- request, log, errors ----------------------------------------------------------------

    /** @param list<string> $secrets values of this call to mask in the module log */
    private function request(array $params, string $action, array $body, array $secrets = []): array
    {
        $exchange = Client::fromParams($params, $this->transport)->send($action, $body);
        $this->log($params, $action, $exchange, $secrets);
        return Client::result($exchange);
    }

    private function log(array $params, string $action, Exchange $exchange, array $secrets): void
    {
        $answer = $exchange->json ?? [];
        foreach (self::SECRET_KEYS as $key) {
            if (is_string($answer[$key] ?? null)) {
                $secrets[] = $answer[$key];
                parse_str((string) parse_url($answer[$key], PHP_URL_QUERY), $query);
                $secrets[] = is_string($query['key'] ?? null) ? $query['key'] : '';
            }
        }
        $request = 'POST ' . $exchange->url . "\nwebhook-id: " . $exchange->webhookId . "\n\n" . $exchange->body;
        $response = $exchange->transportError !== '' ? $exchange->transportError
            : 'HTTP ' . $exchange->status . "\n\n" . $exchange->raw;
        $processed = $exchange->json !== null ? self::masked($exchange->json) : $exchange->transportError;
        self::logCall($this->name, $action, $request, $response, $processed, self::replaceVars($params, $secrets));
    }

    /**
     * What WHMCS must scrub from the log entry: the secret (with and without its prefix),
     * passwords and SSO URLs/keys, each also as it appears JSON-escaped in a body.
     *
     * @return list<string>
     */
    public static function replaceVars(array $params, array $secrets): array
    {
        $secret = (string) ($params['serverpassword'] ?? '');
        $values = [$secret, ...$secrets];
        if (str_starts_with($secret, Client::SECRET_PREFIX)) {
            $values[] = substr($secret, strlen(Client::SECRET_PREFIX));
        }
        $vars = [];
        foreach ($values as $value) {
            $value = (string) $value;
            if ($value === '') {
                continue;
            }
            $vars[] = $value;
            foreach ([JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE, JSON_UNESCAPED_SLASHES, 0] as $flags) {
                $vars[] = substr((string) json_encode($value, $flags), 1, -1);
            }
        }
        $vars = array_values(array_unique(array_filter($vars, fn (string $v): bool => $v !== '')));
        // Longest first, so that a value containing another is scrubbed whole.
        usort($vars, fn (string $a, string $b): int => strlen($b) <=> strlen($a));
        return $vars;
    }

    private static function masked(array $data): array
    {
        foreach ($data as $key => $value) {
            if (is_array($value)) {
                $data[$key] = self::masked($value);
            } elseif (in_array($key, self::SECRET_KEYS, true) && is_string($value)) {
                $data[$key] = self::MASK;
            }
        }
        return $data;
    }

    private static function logCall(string $module, string $action, mixed $request, mixed $response, mixed $processed, array $vars): void
    {
        if (function_exists('logModuleCall')) {
            logModuleCall($module, $action, $request, $response, $processed, $vars);
        }
    }

    /** Run one account action; any failure becomes the string WHMCS shows. */
    private function guard(array $params, string $action, callable $action_fn): string
    {
        try {
            return $action_fn();
        } catch (\Throwable $error) {
            return $this->failure($params, $action, $error);
        }
    }

    private function failure(array $params, string $action, \Throwable $error): string
    {
        if ($error instanceof IsphooksError) {
            $message = $error->whmcsMessage();
            if ($error->errorCode === 'unowned_account') {
                $message .= ' — an account made by the old module: an administrator adopts it once with the "'
                    . self::ADOPT_BUTTON . '" button';
            }
            return $message; // logged with the exchange
        }
        $message = $error instanceof SettingError ? 'isphooks setting: ' . $error->getMessage()
            : 'isphooks module error: ' . get_class($error) . ': ' . IsphooksError::oneLine($error->getMessage());
        $message = str_replace(self::replaceVars($params, []), self::MASK, $message);
        self::logCall($this->name, $action, '', $message, '', self::replaceVars($params, []));
        return $message;
    }

    // -- WHMCS parameters ------------------------------------------------------------------------

    private function account(array $params): array
    {
        return ['service_id' => self::serviceId($params), 'server' => self::server($params),
            'username' => self::username($params), 'kind' => $this->kind];
    }

    private static function server(array $params): string
    {
        $server = trim((string) ($params['serverusername'] ?? ''));
        if ($server === '') {
            throw new SettingError('the server Username is empty: set it to the server\'s name in the isphooks config');
        }
        return $server;
    }

    private static function serviceId(array $params): string
    {
        $id = (string) ($params['serviceid'] ?? '');
        if ($id === '') {
            throw new SettingError('no service id in the module parameters');
        }
        return $id;
    }

    private static function username(array $params): string
    {
        $username = trim((string) ($params['username'] ?? ''));
        if ($username === '') {
            throw new SettingError('the service has no username, and the product no "Username template"');
        }
        return $username;
    }

    /** The username isphooks chose (template) and a password it generated go back to WHMCS. */
    private function writeBack(array $params, array $answer): string
    {
        $update = [];
        $username = (string) ($answer['username'] ?? '');
        if ($username !== '' && $username !== (string) ($params['username'] ?? '')) {
            $update['serviceusername'] = $username;
        }
        if (is_string($answer['password'] ?? null)) {
            $update['servicepassword'] = $answer['password'];
        }
        if ($update === []) {
            return 'success';
        }
        $result = localAPI('UpdateClientProduct', ['serviceid' => (int) $params['serviceid']] + $update);
        if (($result['result'] ?? '') !== 'success') {
            return 'isphooks: account ' . $username . ' is on the panel, but WHMCS did not store its details ('
                . IsphooksError::oneLine((string) ($result['message'] ?? 'no answer'))
                . '): run Create again (safe to retry: isphooks converges)';
        }
        return 'success';
    }
}
