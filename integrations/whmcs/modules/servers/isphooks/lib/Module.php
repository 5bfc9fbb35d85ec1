<?php
/**
 * The WHMCS module functions of isphooks and isphooks_reseller: each one is one signed
 * isphooks request, logged with logModuleCall, answered in WHMCS's return conventions.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/AdminTab.php';
require_once __DIR__ . '/Client.php';
require_once __DIR__ . '/ClientArea.php';
require_once __DIR__ . '/Gateway.php';
require_once __DIR__ . '/MetricSource.php';
require_once __DIR__ . '/Params.php';
require_once __DIR__ . '/Plan.php';
require_once __DIR__ . '/ServerFunctions.php';
require_once __DIR__ . '/ServerPage.php';
require_once __DIR__ . '/Text.php';
// The archive's lib/Version.php (integrations/whmcs/build.py writes it from isphooks' one
// version, shared/__init__.py); a source checkout has none and reports "dev".
if (is_file(__DIR__ . '/Version.php')) {
    require_once __DIR__ . '/Version.php';
}


final class Module
{
    public const ADOPT_BUTTON = 'Adopt existing account';
    public const CHECK_BUTTON = 'Check';
    public const REPAIR_BUTTON = 'Repair to WHMCS state';

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

    /** The isphooks version the archive was built from; "dev" from a source checkout. */
    public static function version(): string
    {
        return class_exists(Version::class, false) ? Version::NUMBER : 'dev';
    }

    public function metaData(): array
    {
        return [
            'DisplayName' => $this->displayName,
            'APIVersion' => '1.1',
            // not a key WHMCS reads: it says which build an installation runs
            'ModuleVersion' => self::version(),
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
        return [self::CHECK_BUTTON => 'CheckAccount', self::REPAIR_BUTTON => 'RepairAccount',
            self::ADOPT_BUTTON => 'AdoptAccount'];
    }

    // -- account actions: "success" or an error string ----------------------------------------

    public function createAccount(array $params): string
    {
        return $this->gateway()->guard($params, 'create', function () use ($params): string {
            $plan = Plan::fromParams($params, $this->kind, true);
            $body = ['service_id' => Params::serviceId($params), 'server' => Params::server($params),
                'kind' => $this->kind];
            if (!isset($plan['username_template'])) {
                $body['username'] = Params::username($params);
            }
            $password = (string) ($params['password'] ?? '');
            if ($password !== '') {
                $body['password'] = $password;
            }
            // as WHMCS stores it (an IDN domain too): isphooks normalises it
            $domain = trim((string) ($params['domain'] ?? ''));
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
            $answer = $this->gateway()->request($params, 'create', $body, [$password]);
            return $this->writeBack($params, $answer);
        });
    }

    public function suspendAccount(array $params): string
    {
        return $this->gateway()->guard($params, 'suspend', function () use ($params): string {
            $body = $this->account($params);
            $reason = Text::freeText((string) ($params['suspendreason'] ?? ''));
            if ($reason !== '') {
                $body['reason'] = $reason;
            }
            return self::applied($this->gateway()->request($params, 'suspend', $body));
        });
    }

    public function unsuspendAccount(array $params): string
    {
        return $this->gateway()->guard($params, 'unsuspend', function () use ($params): string {
            return self::applied($this->gateway()->request($params, 'unsuspend', $this->account($params)));
        });
    }

    public function terminateAccount(array $params): string
    {
        return $this->gateway()->guard($params, 'terminate', function () use ($params): string {
            return self::applied($this->gateway()->request($params, 'terminate', $this->account($params)));
        });
    }

    /**
     * "success", unless isphooks answered `superseded`: a newer decision about the account
     * stands (a stale queued suspend retried after the customer paid). WHMCS would take
     * "success" to mean the service is now suspended (or terminated); the error keeps its
     * status as it is, and says why. (A superseded upgrade or password changes no WHMCS
     * status: those stay "success", which resolves their queue row.)
     */
    private static function applied(array $answer): string
    {
        if (($answer['status'] ?? '') !== 'superseded') {
            return 'success';
        }
        $at = (int) ($answer['recorded_event_time'] ?? 0);
        return Text::html('isphooks superseded: a newer decision about this account'
            . ($at > 0 ? ' (made ' . gmdate('Y-m-d H:i:s', intdiv($at, 1000)) . ' UTC)' : '')
            . ' stands on the panel; nothing was changed, and WHMCS keeps the service as it is');
    }

    public function changePackage(array $params): string
    {
        return $this->gateway()->guard($params, 'upgrade', function () use ($params): string {
            $body = $this->account($params) + ['plan' => Plan::fromParams($params, $this->kind, false)];
            $this->gateway()->request($params, 'upgrade', $body);
            return 'success';
        });
    }

    /** Also reachable from the client area: never adopts. */
    public function changePassword(array $params): string
    {
        return $this->gateway()->guard($params, 'password', function () use ($params): string {
            $password = (string) ($params['password'] ?? '');
            $this->gateway()->request($params, 'password', $this->account($params) + ['password' => $password], [$password]);
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
        return $this->gateway()->guard($params, 'sso', function () use ($params): string {
            $this->gateway()->request($params, 'sso', $this->account($params) + ['as' => 'user', 'adopt' => true]);
            return 'success';
        });
    }

    // -- server functions ------------------------------------------------------------------

    public function testConnection(array $params): array
    {
        return $this->server()->testConnection($params);
    }

    /** Client area and admin area alike: never adopts, and only for an Active service (the
     *  client area hides its buttons otherwise, but the single sign-on URL can be opened by
     *  hand). A client-area button's `app` lands the login on that panel page
     *  (ClientArea::APPS); any other `app`, on the dashboard. */
    public function serviceSingleSignOn(array $params): array
    {
        $status = trim((string) ($params['status'] ?? ''));
        if ($status !== 'Active') {
            return ['success' => false, 'errorMsg' => Text::html('The control panel login is available only while'
                . ' the service is Active; this service is ' . ($status !== '' ? $status : 'without a status') . '.')];
        }
        return $this->singleSignOn($params, function () use ($params): array {
            $page = ClientArea::page($params);
            return $this->account($params) + ['as' => 'user'] + ($page !== null ? ['page' => $page] : []);
        });
    }

    public function adminSingleSignOn(array $params): array
    {
        return $this->singleSignOn($params, fn (): array => ['server' => Params::server($params), 'as' => 'admin']);
    }

    private function singleSignOn(array $params, callable $body): array
    {
        try {
            $answer = $this->gateway()->request($params, 'sso', $body());
            return ['success' => true, 'redirectTo' => (string) $answer['url']];
        } catch (\Throwable $error) {
            return ['success' => false, 'errorMsg' => $this->gateway()->failure($params, 'sso', $error)];
        }
    }

    public function usageUpdate(array $params): string
    {
        return $this->server()->usageUpdate($params);
    }

    public function listAccounts(array $params): array
    {
        return $this->server()->listAccounts($params);
    }

    // -- the pages: client area, admin services tab, server page, usage billing -----------------

    public function clientArea(array $params): array
    {
        return ClientArea::output($params, $this->kind);
    }

    public function adminTab(): AdminTab
    {
        return new AdminTab($this->gateway(), $this->kind);
    }

    public function serverPage(): ServerPage
    {
        return new ServerPage($this->gateway(), $this->server(), $this->name, $this->kind);
    }

    /** WHMCS's usage-billing provider; its class (WHMCS's interfaces) loads only here. */
    public function metricProvider(array $params): object
    {
        require_once __DIR__ . '/UsageMetrics.php';
        return new UsageMetrics(fn (): MetricSource => new MetricSource($this->server(), $params));
    }

    private function gateway(): Gateway
    {
        return new Gateway($this->name, $this->transport);
    }

    private function server(): ServerFunctions
    {
        return new ServerFunctions($this->gateway(), $this->kind);
    }

    // -- WHMCS parameters ------------------------------------------------------------------------

    private function account(array $params): array
    {
        return Params::account($params, $this->kind);
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
            return Text::html('isphooks: account ' . $username . ' is on the panel, but WHMCS did not store its details ('
                . IsphooksError::oneLine((string) ($result['message'] ?? 'no answer'))
                . '): run Create again (safe to retry: isphooks converges)');
        }
        return 'success';
    }
}
