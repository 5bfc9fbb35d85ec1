<?php
/**
 * One signed isphooks request of a WHMCS module function: sent with the time of its
 * decision, logged with logModuleCall (secrets scrubbed by its replace-vars), and any
 * failure turned into the HTML-escaped string WHMCS shows.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Client.php';
require_once __DIR__ . '/Queue.php';
require_once __DIR__ . '/Text.php';

final class Gateway
{
    public const MASK = '********';
    private const SECRET_KEYS = ['password', 'url'];
    /** The WHMCS function behind each account action: its name in the module queue. */
    private const FUNCTIONS = ['create' => 'CreateAccount', 'suspend' => 'SuspendAccount',
        'unsuspend' => 'UnsuspendAccount', 'terminate' => 'TerminateAccount', 'upgrade' => 'ChangePackage',
        'password' => 'ChangePassword'];

    /** @param callable|null $transport a transport for tests; null: curl */
    public function __construct(private readonly string $module, private $transport = null)
    {
    }

    /**
     * @param list<string> $secrets values of this call to mask in the module log
     *
     * An account action carries the time WHMCS decided it: the queue row's `created_at` when
     * this call is the AfterCronJob hook's retry of that row, else now (Queue::decisionTime).
     */
    public function request(array $params, string $action, array $body, array $secrets = []): array
    {
        $client = Client::fromParams($params, $this->transport);
        $eventTime = isset(self::FUNCTIONS[$action]) && isset($body['service_id'])
            ? Queue::decisionTime($this->module, self::FUNCTIONS[$action], (int) ($params['serviceid'] ?? 0))
            : null;
        $exchange = $client->send($action, $body, $eventTime);
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
        self::logCall($this->module, $action, $request, $response, $processed, self::replaceVars($params, $secrets));
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
    public function guard(array $params, string $action, callable $action_fn): string
    {
        try {
            return $action_fn();
        } catch (\Throwable $error) {
            return $this->failure($params, $action, $error);
        }
    }

    /** The text WHMCS shows for a failure: HTML-escaped, since isphooks' messages quote the
     *  panel's and a panel's text must never run in the admin area. */
    public function failure(array $params, string $action, \Throwable $error): string
    {
        if ($error instanceof IsphooksError) {
            $message = $error->whmcsMessage();
            if ($error->errorCode === 'unowned_account') {
                $message .= ' — an account made by the old module: an administrator adopts it once with the "'
                    . Module::ADOPT_BUTTON . '" button';
            }
            return Text::html($message); // logged with the exchange
        }
        $message = $error instanceof SettingError ? 'isphooks setting: ' . $error->getMessage()
            : 'isphooks module error: ' . get_class($error) . ': ' . IsphooksError::oneLine($error->getMessage());
        $message = str_replace(self::replaceVars($params, []), self::MASK, $message);
        self::logCall($this->module, $action, '', $message, '', self::replaceVars($params, []));
        return Text::html($message);
    }
}
