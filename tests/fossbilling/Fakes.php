<?php
/** The PHPUnit suites' isphooks (a transport that records and answers) and logger. */

declare(strict_types=1);

namespace FossbillingTest;

use IsphooksFossbilling\Exchange;

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SERVER = ['username' => 'isp1', 'password' => SECRET, 'accesshash' => 'https://hooks.example.net/isphooks-{action}',
    'ip' => '203.0.113.10', 'secure' => true];

/** Records each request; answers from a script (status, body), else isphooks' usual success. */
final class FakeIsphooks
{
    /** @var list<array{action: string, url: string, headers: array<string, string>, body: array, raw: string}> */
    public array $sent = [];
    /** @var list<array{0: int, 1: array|string}> status 0: no answer (the string is curl's error) */
    public array $script = [];

    public function __invoke(Exchange $exchange, array $headers, int $timeoutS): void
    {
        $named = [];
        foreach ($headers as $line) {
            [$name, $value] = explode(': ', $line, 2);
            $named[strtolower($name)] = $value;
        }
        $this->sent[] = ['action' => $exchange->action, 'url' => $exchange->url, 'headers' => $named,
            'body' => json_decode($exchange->body, true), 'raw' => $exchange->body];
        [$status, $answer] = array_shift($this->script) ?? [200, self::success($exchange)];
        if ($status === 0) {
            $exchange->transportError = (string) $answer;
            return;
        }
        $exchange->status = $status;
        $exchange->raw = is_string($answer) ? $answer : json_encode($answer, JSON_THROW_ON_ERROR);
    }

    public function answer(int $status, array|string $body): self
    {
        $this->script[] = [$status, $body];
        return $this;
    }

    public function error(int $status, string $code, string $message, ?bool $retryable = null): self
    {
        return $this->answer($status, ['error' => ['code' => $code, 'message' => $message,
            'retryable' => $retryable ?? $status >= 500]]);
    }

    public function last(): array
    {
        return $this->sent[count($this->sent) - 1];
    }

    private static function success(Exchange $exchange): array
    {
        $body = json_decode($exchange->body, true);
        $common = ['action' => $exchange->action, 'server' => $body['server'] ?? 'isp1'];
        $account = isset($body['service_id']) ? ['service_id' => $body['service_id'], 'username' => $body['username'] ?? ''] : [];
        return $common + $account + match ($exchange->action) {
            'create' => ['status' => 'created', 'panel_url' => 'https://isp1.example.net:1500/'],
            'suspend' => ['status' => 'suspended'],
            'unsuspend' => ['status' => 'active'],
            'terminate' => ['status' => 'terminated'],
            'upgrade' => ['status' => 'updated', 'changed' => ['disk_mib']],
            'password' => ['status' => 'updated'],
            'sso' => ['status' => 'ok', 'url' => 'https://isp1.example.net:1500/ispmgr?func=auth&key=k3y', 'expires_in' => 60],
            'check' => ['status' => 'ok', 'servers' => [['server' => $body['server'], 'ok' => true, 'error' => null]]],
            'status' => ['status' => 'ok', 'kind' => $body['kind'] ?? 'user', 'exists' => true, 'ours' => true,
                'marker' => $body['service_id'], 'owner' => 'root', 'active' => true, 'template' => 'basic', 'limits' => [],
                'recorded' => []],
            default => ['status' => 'ok'],
        };
    }
}

final class ArrayLogger implements \Psr\Log\LoggerInterface
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

    public function text(): string
    {
        return json_encode($this->records, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }
}

/** A plan as FOSSBilling's getServerPackage builds it. */
function package(array $values = [], array $custom = []): \Server_Package
{
    $package = (new \Server_Package())->setCustomValues($custom);
    foreach ($values as $setter => $value) {
        $package->$setter($value);
    }
    return $package;
}

/** An account as FOSSBilling's _getAM builds it (after activation: the password placeholder). */
function account(array $overrides = []): \Server_Account
{
    $client = (new \Server_Client())->setEmail($overrides['email'] ?? 'Owner@Example.com');
    $account = (new \Server_Account())
        ->setClient($client)
        ->setPackage($overrides['package'] ?? package(['setName' => 'Basic', 'setQuota' => '1024'], ['template' => 'basic']))
        ->setUsername($overrides['username'] ?? 'shopexamplec9516')
        ->setReseller($overrides['reseller'] ?? false)
        ->setDomain($overrides['domain'] ?? 'shop.example.com')
        ->setPassword($overrides['password'] ?? '********')
        ->setIp('203.0.113.10');
    if (isset($overrides['note'])) {
        $account->setNote($overrides['note']);
    }
    return $account;
}

function manager(?FakeIsphooks $fake = null, array $settings = [], ?ArrayLogger $logger = null): \Server_Manager_Isphooks
{
    $manager = new \Server_Manager_Isphooks($settings + SERVER);
    $manager->setLog($logger ?? new ArrayLogger());
    return $manager->setTransport($fake ?? new FakeIsphooks());
}
