<?php
/**
 * The isphooks HTTP client shared by the isphooks and isphooks_reseller WHMCS modules:
 * the endpoint URL, Standard Webhooks signing, one JSON POST with curl, and the answer.
 *
 * PHP 8.1+, bundled extensions only (curl, json, hash).
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

/** An isphooks error answer, or a failure to get any answer. */
final class IsphooksError extends \RuntimeException
{
    public function __construct(
        public readonly string $errorCode,
        string $message,
        public readonly bool $retryable,
        public readonly int $httpStatus = 0,
    ) {
        parent::__construct($message);
    }

    /** The text WHMCS shows: `isphooks <code>: <message>`, and for 5xx that a retry is safe. */
    public function whmcsMessage(): string
    {
        $text = 'isphooks ' . $this->errorCode . ': ' . self::oneLine($this->getMessage());
        if ($this->retryable) {
            $text .= ' (safe to retry: isphooks converges, a retry never makes a second account)';
        }
        return $text;
    }

    public static function oneLine(string $text): string
    {
        return trim((string) preg_replace('/\s+/', ' ', $text));
    }
}

/** A bad module or server setting, found before anything is sent. */
final class SettingError extends \InvalidArgumentException
{
}

/** One exchange with isphooks, kept for the module log. */
final class Exchange
{
    public int $status = 0;
    public string $raw = '';
    /** @var array<string, mixed>|null */
    public ?array $json = null;
    public string $transportError = '';

    public function __construct(
        public readonly string $action,
        public readonly string $url,
        public readonly string $webhookId,
        public readonly string $body,
    ) {
    }
}

final class Client
{
    public const SECRET_PREFIX = 'whsec_';
    public const CONNECT_TIMEOUT_S = 10;
    /** isphooks' functions stop at 120 s (Terraform's function_timeout_s); wait a little longer
     *  so their own answer (a retryable 503) arrives rather than a cut connection. */
    public const REQUEST_TIMEOUT_S = 125;

    /** @var callable(Exchange, list<string>, int): void */
    private $transport;

    public function __construct(
        private readonly string $urlTemplate,
        private readonly string $secret,
        ?callable $transport = null,
        private readonly int $timeoutS = self::REQUEST_TIMEOUT_S,
    ) {
        self::key($secret); // fail early, without echoing the secret
        $this->transport = $transport ?? [self::class, 'curlTransport'];
    }

    /** From WHMCS server parameters: Access Hash (URL template) or hostname; Password = secret. */
    public static function fromParams(array $params, ?callable $transport = null): self
    {
        $secret = trim((string) ($params['serverpassword'] ?? ''));
        if ($secret === '') {
            throw new SettingError('the server Password is empty: set it to the whsec_ secret isphooks accepts');
        }
        return new self(self::urlTemplate($params), $secret, $transport);
    }

    /** `serveraccesshash` when set (it must hold `{action}`), else https://hostname[:port]/{action};
     *  plain http:// only when "Secure" is cleared and the host is loopback (a local
     *  `isphooks serve`), since every request carries the webhook signature of the server. */
    public static function urlTemplate(array $params): string
    {
        $template = trim((string) ($params['serveraccesshash'] ?? ''));
        if ($template !== '') {
            if (!str_contains($template, '{action}')) {
                throw new SettingError('the server Access Hash must be a URL template containing {action}');
            }
            if (!preg_match('#^https?://[^\s/]+#i', $template)) {
                throw new SettingError('the server Access Hash must start with http:// or https://');
            }
            return $template;
        }
        $host = trim((string) ($params['serverhostname'] ?? ''));
        if ($host === '') {
            $host = trim((string) ($params['serverip'] ?? ''));
        }
        if ($host === '') {
            throw new SettingError('set the server Access Hash to the isphooks URL template, or its Hostname');
        }
        if (str_contains($host, ':') && !str_starts_with($host, '[') && filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV6)) {
            $host = '[' . $host . ']';
        }
        $port = (int) ($params['serverport'] ?? 0);
        $plain = !self::truthy($params['serversecure'] ?? false) && self::loopback($host);
        $scheme = $plain ? 'http' : 'https';
        return $scheme . '://' . $host . ($port > 0 ? ':' . $port : '') . '/{action}';
    }

    /** localhost, 127.0.0.0/8 or ::1 */
    public static function loopback(string $host): bool
    {
        $host = strtolower(trim($host, '[]'));
        if ($host === 'localhost' || $host === '::1') {
            return true;
        }
        return filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false && str_starts_with($host, '127.');
    }

    public static function truthy(mixed $value): bool
    {
        if (is_bool($value)) {
            return $value;
        }
        return in_array(strtolower(trim((string) $value)), ['1', 'on', 'yes', 'true'], true);
    }

    /** The HMAC key of a `whsec_` secret: the base64-decoded part after the prefix. */
    public static function key(string $secret): string
    {
        if (!str_starts_with($secret, self::SECRET_PREFIX)) {
            throw new SettingError('the server Password must be a whsec_ secret');
        }
        $encoded = substr($secret, strlen(self::SECRET_PREFIX));
        $key = base64_decode($encoded . str_repeat('=', (4 - strlen($encoded) % 4) % 4), true);
        if ($key === false || strlen($key) < 16) {
            throw new SettingError('the server Password is not a valid whsec_ secret (base64, at least 16 bytes)');
        }
        return $key;
    }

    /** `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`. */
    public static function signature(string $secret, string $webhookId, int $timestamp, string $body): string
    {
        $mac = hash_hmac('sha256', $webhookId . '.' . $timestamp . '.' . $body, self::key($secret), true);
        return 'v1,' . base64_encode($mac);
    }

    /** @return array<string, string> the three Standard Webhooks headers */
    public static function signedHeaders(string $secret, string $webhookId, int $timestamp, string $body): array
    {
        return [
            'webhook-id' => $webhookId,
            'webhook-timestamp' => (string) $timestamp,
            'webhook-signature' => self::signature($secret, $webhookId, $timestamp, $body),
        ];
    }

    public static function newWebhookId(): string
    {
        return 'msg_' . bin2hex(random_bytes(16));
    }

    public static function nowMs(): int
    {
        return (int) floor(microtime(true) * 1000);
    }

    public static function encode(array $body): string
    {
        return json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }

    /** POST one action. Every body carries `event_time`: when WHMCS decided the call (the
     *  hook's retry of a queue row: the row's time, Queue::decisionTime), else now. */
    public function send(string $action, array $body, ?int $eventTimeMs = null): Exchange
    {
        $body['event_time'] = $eventTimeMs ?? self::nowMs();
        $exchange = new Exchange(
            $action,
            str_replace('{action}', rawurlencode($action), $this->urlTemplate),
            self::newWebhookId(),
            self::encode($body),
        );
        ($this->transport)($exchange, $this->headersFor($exchange), $this->timeoutS);
        if ($exchange->transportError === '' && $exchange->raw !== '') {
            $decoded = json_decode($exchange->raw, true);
            $exchange->json = is_array($decoded) ? $decoded : null;
        }
        return $exchange;
    }

    /** @return list<string> */
    private function headersFor(Exchange $exchange): array
    {
        $lines = ['Content-Type: application/json', 'Accept: application/json'];
        foreach (self::signedHeaders($this->secret, $exchange->webhookId, time(), $exchange->body) as $name => $value) {
            $lines[] = $name . ': ' . $value;
        }
        return $lines;
    }

    /** The answer as data, or an IsphooksError carrying its code and retryability (docs/interface.md §5). */
    public static function result(Exchange $exchange): array
    {
        if ($exchange->transportError !== '') {
            // The request may or may not have reached isphooks: retrying converges either way.
            throw new IsphooksError('unreachable', $exchange->transportError, true);
        }
        $error = $exchange->json['error'] ?? null;
        if ($exchange->status >= 200 && $exchange->status < 300 && $exchange->json !== null && $error === null) {
            return $exchange->json;
        }
        if (is_array($error) && isset($error['code'])) {
            throw new IsphooksError(
                (string) $error['code'],
                (string) ($error['message'] ?? ''),
                (bool) ($error['retryable'] ?? $exchange->status >= 500),
                $exchange->status,
            );
        }
        throw new IsphooksError(
            'bad_response',
            'HTTP ' . $exchange->status . ' without an isphooks answer (is the URL template right?)',
            $exchange->status >= 500,
            $exchange->status,
        );
    }

    /** The default transport: curl, TLS verified, no redirects, bounded in time. */
    public static function curlTransport(Exchange $exchange, array $headers, int $timeoutS = self::REQUEST_TIMEOUT_S): void
    {
        $handle = curl_init($exchange->url);
        curl_setopt_array($handle, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $exchange->body,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_CONNECTTIMEOUT => self::CONNECT_TIMEOUT_S,
            CURLOPT_TIMEOUT => $timeoutS,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_USERAGENT => 'isphooks-whmcs/1',
        ]);
        $raw = curl_exec($handle);
        if ($raw === false) {
            $exchange->transportError = 'no answer from ' . parse_url($exchange->url, PHP_URL_HOST)
                . ': ' . curl_error($handle);
        } else {
            $exchange->raw = (string) $raw;
            $exchange->status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
        }
        curl_close($handle);
    }
}
