<?php
/**
 * isphooks server manager for FOSSBilling: ISPmanager 6 hosting accounts, each manager call
 * one signed isphooks request (docs/interface.md of isphooks; Standard Webhooks signatures).
 *
 * Install: this one file as library/Server/Manager/Isphooks.php of a FOSSBilling installation
 * (src/library/Server/Manager/ in FOSSBilling's repository); FOSSBilling then offers the
 * server manager "isphooks (ISPmanager 6)". Server settings: Username = the isphooks server
 * name, Password = the whsec_ webhook secret, Access Hash = the isphooks URL template with
 * {action} (optional: else https://Hostname:Port/{action}, the IP when Hostname is empty).
 *
 * Why one file: FOSSBilling lists every *.php below library/Server/Manager/ (its Finder
 * recurses into folders) as a server manager of that name, so a helper file there, or in a
 * folder there, would show up in the manager drop-down. The helpers live here, in the
 * namespace IsphooksFossbilling.
 *
 * PHP 8.1+, bundled extensions only (curl, json, hash, pcre): no intl, no mbstring (the
 * A-label of a domain is computed here: a punycode encoder and a lowercase table).
 */

declare(strict_types=1);

namespace IsphooksFossbilling {

    /** integrations/fossbilling/build.py writes isphooks' version here; a checkout says "dev". */
    final class Version
    {
        public const NUMBER = 'dev';
    }

    /** A bad server or plan setting, found before anything is sent. */
    final class SettingError extends \InvalidArgumentException
    {
    }

    /** An isphooks error answer (docs/interface.md §5), or no answer at all. */
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
    }

    /** One exchange with isphooks. */
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

    /**
     * The isphooks client: Standard Webhooks signing and one JSON POST with curl. The same
     * signing as the WHMCS modules' IsphooksWhmcs\Client (a test compares the two byte for
     * byte); a copy of its own because this manager must be one file (above) and the WHMCS
     * archive's layout is fixed.
     */
    final class Client
    {
        public const SECRET_PREFIX = 'whsec_';
        public const CONNECT_TIMEOUT_S = 10;
        /** isphooks' functions stop at 120 s; wait a little longer for their own answer. */
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

        /** The HMAC key of a whsec_ secret: the base64-decoded part after the prefix. */
        public static function key(string $secret): string
        {
            if (!str_starts_with($secret, self::SECRET_PREFIX)) {
                throw new SettingError('the server Password must be the whsec_ webhook secret isphooks accepts');
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

        /** POST one action; an account action's body carries `event_time` (set by the caller). */
        public function send(string $action, array $body): Exchange
        {
            $exchange = new Exchange(
                $action,
                str_replace('{action}', rawurlencode($action), $this->urlTemplate),
                self::newWebhookId(),
                self::encode($body),
            );
            $headers = ['Content-Type: application/json', 'Accept: application/json'];
            foreach (self::signedHeaders($this->secret, $exchange->webhookId, time(), $exchange->body) as $name => $value) {
                $headers[] = $name . ': ' . $value;
            }
            ($this->transport)($exchange, $headers, $this->timeoutS);
            if ($exchange->transportError === '' && $exchange->raw !== '') {
                $decoded = json_decode($exchange->raw, true);
                $exchange->json = is_array($decoded) ? $decoded : null;
            }
            return $exchange;
        }

        /** The answer as data, or an IsphooksError with its code and retryability. */
        public static function result(Exchange $exchange): array
        {
            if ($exchange->transportError !== '') {
                // The request may or may not have reached isphooks: a retry converges either way.
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
                CURLOPT_USERAGENT => 'isphooks-fossbilling/' . Version::NUMBER,
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

    /**
     * What the manager reads from the array FOSSBilling constructs it with (its
     * Server_Manager::$_config): ip, host, port, secure, username, password, accesshash, and
     * `config` — the server's config JSON, which FOSSBilling's own form fills with
     * `userprefix` and `tls_verify` only; `panel_url` is read from it when it is there.
     */
    final class Settings
    {
        /** The isphooks server name: the server's Username. */
        public static function server(array $config): string
        {
            $server = trim((string) ($config['username'] ?? ''));
            if ($server === '') {
                throw new SettingError('the server Username is empty: set it to the server\'s name in the isphooks config');
            }
            if (preg_match('/[\x00-\x20\x7f]/', $server)) {
                throw new SettingError('the server Username must be the isphooks server name, without spaces');
            }
            return $server;
        }

        public static function secret(array $config): string
        {
            $secret = trim((string) ($config['password'] ?? ''));
            if ($secret === '') {
                throw new SettingError('the server Password is empty: set it to the whsec_ webhook secret isphooks accepts');
            }
            Client::key($secret);
            return $secret;
        }

        /**
         * The Access Hash when set (an isphooks URL template with {action}), else
         * https://host[:port]/{action} with the Hostname (the IP when it is empty). Plain
         * http:// only for a loopback host (a local `isphooks serve`): the bodies carry
         * passwords. "Use secure connection" cleared is honoured for loopback only.
         */
        public static function urlTemplate(array $config): string
        {
            $template = trim((string) ($config['accesshash'] ?? ''));
            if ($template !== '') {
                if (!str_contains($template, '{action}')) {
                    throw new SettingError('the server Access Hash must be the isphooks URL template with {action} (or empty)');
                }
                // {action} may be in the host too (one Cloud Run service per action)
                if (!preg_match('#^(https?)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~{}-]+)(:[0-9]{1,5})?(/\S*)?$#', $template, $m)) {
                    throw new SettingError('the server Access Hash must be an https:// URL template with {action}');
                }
                if (strtolower($m[1]) === 'http' && !self::loopback($m[2])) {
                    throw new SettingError('the server Access Hash may use http:// only for a local isphooks (127.0.0.1, localhost, ::1): use https://');
                }
                return $template;
            }
            $host = trim((string) ($config['host'] ?? ''));
            if ($host === '') {
                $host = trim((string) ($config['ip'] ?? ''));
            }
            if ($host === '') {
                throw new SettingError('set the server Hostname (or IP) to where isphooks answers, or the Access Hash to its URL template');
            }
            if (filter_var(trim($host, '[]'), FILTER_VALIDATE_IP, FILTER_FLAG_IPV6) !== false) {
                $host = '[' . trim($host, '[]') . ']';
            } elseif (!preg_match('/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/', $host)) {
                throw new SettingError('the server Hostname must be a host name or address (a URL goes into the Access Hash)');
            }
            $port = (int) ($config['port'] ?? 0);
            if ($port < 0 || $port > 65535) {
                throw new SettingError('the server Port must be between 1 and 65535, or empty');
            }
            $plain = !self::truthy($config['secure'] ?? true) && self::loopback($host);
            return ($plain ? 'http' : 'https') . '://' . $host . ($port > 0 ? ':' . $port : '') . '/{action}';
        }

        /**
         * The panel's address for getLoginUrl(null) (the server list's login link, the
         * welcome e-mail's "Control Panel URL"): `panel_url` of the server's config JSON,
         * an http(s) URL; '' when it is not there or not such a URL. FOSSBilling's server
         * form cannot save it (its API keeps only userprefix and tls_verify in `config`, and
         * keeps any other key already stored): see docs/fossbilling.md.
         */
        public static function panelUrl(array $config): string
        {
            $custom = $config['config'] ?? null;
            $url = is_array($custom) && is_string($custom['panel_url'] ?? null) ? trim($custom['panel_url']) : '';
            return preg_match('#^https?://[^\s"\'<>\\\\`]+$#i', $url) ? $url : '';
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
    }

    /** Text that reaches FOSSBilling's pages, its log, or isphooks. */
    final class Text
    {
        /** Anything from isphooks or a panel that FOSSBilling shows is HTML-escaped. */
        public static function html(string $text): string
        {
            return htmlspecialchars($text, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
        }

        public static function oneLine(string $text): string
        {
            return trim((string) preg_replace('/\s+/u', ' ', self::utf8($text)));
        }

        /** Invalid UTF-8 bytes become U+FFFD: nothing invalid is shown or sent. */
        public static function utf8(string $text): string
        {
            return htmlspecialchars_decode(htmlspecialchars($text, ENT_NOQUOTES | ENT_SUBSTITUTE, 'UTF-8'), ENT_NOQUOTES);
        }

        /**
         * Free text for isphooks (a suspension reason), as isphooks takes it (its interface,
         * §3 Text): any script passes as it is; control characters, line and paragraph
         * separators and format characters (bidi controls, U+200B, the BOM; the joiners
         * U+200C and U+200D stay) are taken out, line breaks and tabs become one space,
         * and the text is cut to `$limit` code points.
         */
        public static function freeText(string $text, int $limit = 200): string
        {
            $text = self::utf8($text);
            $text = (string) preg_replace('/[\t\n\v\f\r\x{85}\x{2028}\x{2029}]+/u', ' ', $text);
            $text = (string) preg_replace('/(?![\x{200C}\x{200D}])[\p{C}\p{Zl}\p{Zp}]/u', '', $text);
            $text = trim($text, ' ');
            if (preg_match('/^.{' . ($limit + 1) . '}/us', $text) === 1) {
                preg_match('/^.{' . $limit . '}/us', $text, $cut);
                $text = rtrim($cut[0], ' ');
            }
            return $text;
        }
    }

    /**
     * Domains as A-labels without intl: Unicode lowercasing (a table) and the punycode
     * encoder of RFC 3492. It serves this manager's identity (service_id, generated
     * usernames); the domain itself is sent to isphooks as FOSSBilling holds it, and
     * isphooks normalises it with full IDNA 2008 / UTS #46.
     */
    final class Idn
    {
        private const BASE = 36;
        private const TMIN = 1;
        private const TMAX = 26;
        private const SKEW = 38;
        private const DAMP = 700;
        private const INITIAL_BIAS = 72;
        private const INITIAL_N = 0x80;
        /** Full stops UTS #46 maps to "." (ideographic, fullwidth, halfwidth). */
        private const DOTS = ["\u{3002}", "\u{FF0E}", "\u{FF61}"];

        /**
         * Unicode's simple lowercase mappings, as [first, last, stride, delta]: every code
         * point first + k*stride up to last lowercases to itself + delta. Generated from
         * Python 3.11's str.lower (Unicode 14.0) for every code point whose lowercase is
         * one code point; U+0130 (lowercase "i" + U+0307) is handled in lower().
         * tests/fossbilling/test_idn_reference.py checks it against Python.
         */
        private const LOWER = [
            [0x41, 0x5A, 1, 32], [0xC0, 0xD6, 1, 32], [0xD8, 0xDE, 1, 32], [0x100, 0x12E, 2, 1],
            [0x132, 0x136, 2, 1], [0x139, 0x147, 2, 1], [0x14A, 0x176, 2, 1], [0x178, 0x178, 1, -121],
            [0x179, 0x17D, 2, 1], [0x181, 0x181, 1, 210], [0x182, 0x184, 2, 1], [0x186, 0x186, 1, 206],
            [0x187, 0x187, 1, 1], [0x189, 0x18A, 1, 205], [0x18B, 0x18B, 1, 1], [0x18E, 0x18E, 1, 79],
            [0x18F, 0x18F, 1, 202], [0x190, 0x190, 1, 203], [0x191, 0x191, 1, 1],
            [0x193, 0x193, 1, 205], [0x194, 0x194, 1, 207], [0x196, 0x196, 1, 211],
            [0x197, 0x197, 1, 209], [0x198, 0x198, 1, 1], [0x19C, 0x19C, 1, 211],
            [0x19D, 0x19D, 1, 213], [0x19F, 0x19F, 1, 214], [0x1A0, 0x1A4, 2, 1],
            [0x1A6, 0x1A6, 1, 218], [0x1A7, 0x1A7, 1, 1], [0x1A9, 0x1A9, 1, 218], [0x1AC, 0x1AC, 1, 1],
            [0x1AE, 0x1AE, 1, 218], [0x1AF, 0x1AF, 1, 1], [0x1B1, 0x1B2, 1, 217], [0x1B3, 0x1B5, 2, 1],
            [0x1B7, 0x1B7, 1, 219], [0x1B8, 0x1B8, 1, 1], [0x1BC, 0x1BC, 1, 1], [0x1C4, 0x1C4, 1, 2],
            [0x1C5, 0x1C5, 1, 1], [0x1C7, 0x1C7, 1, 2], [0x1C8, 0x1C8, 1, 1], [0x1CA, 0x1CA, 1, 2],
            [0x1CB, 0x1DB, 2, 1], [0x1DE, 0x1EE, 2, 1], [0x1F1, 0x1F1, 1, 2], [0x1F2, 0x1F4, 2, 1],
            [0x1F6, 0x1F6, 1, -97], [0x1F7, 0x1F7, 1, -56], [0x1F8, 0x21E, 2, 1],
            [0x220, 0x220, 1, -130], [0x222, 0x232, 2, 1], [0x23A, 0x23A, 1, 10795],
            [0x23B, 0x23B, 1, 1], [0x23D, 0x23D, 1, -163], [0x23E, 0x23E, 1, 10792],
            [0x241, 0x241, 1, 1], [0x243, 0x243, 1, -195], [0x244, 0x244, 1, 69],
            [0x245, 0x245, 1, 71], [0x246, 0x24E, 2, 1], [0x370, 0x372, 2, 1], [0x376, 0x376, 1, 1],
            [0x37F, 0x37F, 1, 116], [0x386, 0x386, 1, 38], [0x388, 0x38A, 1, 37],
            [0x38C, 0x38C, 1, 64], [0x38E, 0x38F, 1, 63], [0x391, 0x3A1, 1, 32], [0x3A3, 0x3AB, 1, 32],
            [0x3CF, 0x3CF, 1, 8], [0x3D8, 0x3EE, 2, 1], [0x3F4, 0x3F4, 1, -60], [0x3F7, 0x3F7, 1, 1],
            [0x3F9, 0x3F9, 1, -7], [0x3FA, 0x3FA, 1, 1], [0x3FD, 0x3FF, 1, -130],
            [0x400, 0x40F, 1, 80], [0x410, 0x42F, 1, 32], [0x460, 0x480, 2, 1], [0x48A, 0x4BE, 2, 1],
            [0x4C0, 0x4C0, 1, 15], [0x4C1, 0x4CD, 2, 1], [0x4D0, 0x52E, 2, 1], [0x531, 0x556, 1, 48],
            [0x10A0, 0x10C5, 1, 7264], [0x10C7, 0x10C7, 1, 7264], [0x10CD, 0x10CD, 1, 7264],
            [0x13A0, 0x13EF, 1, 38864], [0x13F0, 0x13F5, 1, 8], [0x1C90, 0x1CBA, 1, -3008],
            [0x1CBD, 0x1CBF, 1, -3008], [0x1E00, 0x1E94, 2, 1], [0x1E9E, 0x1E9E, 1, -7615],
            [0x1EA0, 0x1EFE, 2, 1], [0x1F08, 0x1F0F, 1, -8], [0x1F18, 0x1F1D, 1, -8],
            [0x1F28, 0x1F2F, 1, -8], [0x1F38, 0x1F3F, 1, -8], [0x1F48, 0x1F4D, 1, -8],
            [0x1F59, 0x1F5F, 2, -8], [0x1F68, 0x1F6F, 1, -8], [0x1F88, 0x1F8F, 1, -8],
            [0x1F98, 0x1F9F, 1, -8], [0x1FA8, 0x1FAF, 1, -8], [0x1FB8, 0x1FB9, 1, -8],
            [0x1FBA, 0x1FBB, 1, -74], [0x1FBC, 0x1FBC, 1, -9], [0x1FC8, 0x1FCB, 1, -86],
            [0x1FCC, 0x1FCC, 1, -9], [0x1FD8, 0x1FD9, 1, -8], [0x1FDA, 0x1FDB, 1, -100],
            [0x1FE8, 0x1FE9, 1, -8], [0x1FEA, 0x1FEB, 1, -112], [0x1FEC, 0x1FEC, 1, -7],
            [0x1FF8, 0x1FF9, 1, -128], [0x1FFA, 0x1FFB, 1, -126], [0x1FFC, 0x1FFC, 1, -9],
            [0x2126, 0x2126, 1, -7517], [0x212A, 0x212A, 1, -8383], [0x212B, 0x212B, 1, -8262],
            [0x2132, 0x2132, 1, 28], [0x2160, 0x216F, 1, 16], [0x2183, 0x2183, 1, 1],
            [0x24B6, 0x24CF, 1, 26], [0x2C00, 0x2C2F, 1, 48], [0x2C60, 0x2C60, 1, 1],
            [0x2C62, 0x2C62, 1, -10743], [0x2C63, 0x2C63, 1, -3814], [0x2C64, 0x2C64, 1, -10727],
            [0x2C67, 0x2C6B, 2, 1], [0x2C6D, 0x2C6D, 1, -10780], [0x2C6E, 0x2C6E, 1, -10749],
            [0x2C6F, 0x2C6F, 1, -10783], [0x2C70, 0x2C70, 1, -10782], [0x2C72, 0x2C72, 1, 1],
            [0x2C75, 0x2C75, 1, 1], [0x2C7E, 0x2C7F, 1, -10815], [0x2C80, 0x2CE2, 2, 1],
            [0x2CEB, 0x2CED, 2, 1], [0x2CF2, 0x2CF2, 1, 1], [0xA640, 0xA66C, 2, 1],
            [0xA680, 0xA69A, 2, 1], [0xA722, 0xA72E, 2, 1], [0xA732, 0xA76E, 2, 1],
            [0xA779, 0xA77B, 2, 1], [0xA77D, 0xA77D, 1, -35332], [0xA77E, 0xA786, 2, 1],
            [0xA78B, 0xA78B, 1, 1], [0xA78D, 0xA78D, 1, -42280], [0xA790, 0xA792, 2, 1],
            [0xA796, 0xA7A8, 2, 1], [0xA7AA, 0xA7AA, 1, -42308], [0xA7AB, 0xA7AB, 1, -42319],
            [0xA7AC, 0xA7AC, 1, -42315], [0xA7AD, 0xA7AD, 1, -42305], [0xA7AE, 0xA7AE, 1, -42308],
            [0xA7B0, 0xA7B0, 1, -42258], [0xA7B1, 0xA7B1, 1, -42282], [0xA7B2, 0xA7B2, 1, -42261],
            [0xA7B3, 0xA7B3, 1, 928], [0xA7B4, 0xA7C2, 2, 1], [0xA7C4, 0xA7C4, 1, -48],
            [0xA7C5, 0xA7C5, 1, -42307], [0xA7C6, 0xA7C6, 1, -35384], [0xA7C7, 0xA7C9, 2, 1],
            [0xA7D0, 0xA7D0, 1, 1], [0xA7D6, 0xA7D8, 2, 1], [0xA7F5, 0xA7F5, 1, 1],
            [0xFF21, 0xFF3A, 1, 32], [0x10400, 0x10427, 1, 40], [0x104B0, 0x104D3, 1, 40],
            [0x10570, 0x1057A, 1, 39], [0x1057C, 0x1058A, 1, 39], [0x1058C, 0x10592, 1, 39],
            [0x10594, 0x10595, 1, 39], [0x10C80, 0x10CB2, 1, 64], [0x118A0, 0x118BF, 1, 32],
            [0x16E40, 0x16E5F, 1, 32], [0x1E900, 0x1E921, 1, 34],
        ];

        /** The lowercase of one code point, as one or (U+0130) two code points. */
        public static function lower(int $cp): array
        {
            if ($cp < 0x80) {
                return [$cp >= 0x41 && $cp <= 0x5A ? $cp + 32 : $cp];
            }
            if ($cp === 0x130) {
                return [0x69, 0x307];
            }
            $lo = 0;
            $hi = count(self::LOWER) - 1;
            while ($lo <= $hi) {
                $mid = intdiv($lo + $hi, 2);
                [$first, $last, $stride, $delta] = self::LOWER[$mid];
                if ($cp < $first) {
                    $hi = $mid - 1;
                } elseif ($cp > $last) {
                    $lo = $mid + 1;
                } else {
                    return [($cp - $first) % $stride === 0 ? $cp + $delta : $cp];
                }
            }
            return [$cp];
        }

        /** @return list<int> the code points of a UTF-8 string; SettingError when it is not UTF-8 */
        public static function codePoints(string $text): array
        {
            if (!preg_match('//u', $text)) {
                throw new SettingError('the domain is not valid UTF-8');
            }
            $points = [];
            $length = strlen($text);
            for ($i = 0; $i < $length;) {
                $byte = ord($text[$i]);
                if ($byte < 0x80) {
                    $points[] = $byte;
                    $i++;
                    continue;
                }
                $size = $byte >= 0xF0 ? 4 : ($byte >= 0xE0 ? 3 : 2);
                $cp = $byte & (0xFF >> ($size + 1));
                for ($k = 1; $k < $size; $k++) {
                    $cp = ($cp << 6) | (ord($text[$i + $k]) & 0x3F);
                }
                $points[] = $cp;
                $i += $size;
            }
            return $points;
        }

        public static function utf8(int $cp): string
        {
            return match (true) {
                $cp < 0x80 => chr($cp),
                $cp < 0x800 => chr(0xC0 | ($cp >> 6)) . chr(0x80 | ($cp & 0x3F)),
                $cp < 0x10000 => chr(0xE0 | ($cp >> 12)) . chr(0x80 | (($cp >> 6) & 0x3F)) . chr(0x80 | ($cp & 0x3F)),
                default => chr(0xF0 | ($cp >> 18)) . chr(0x80 | (($cp >> 12) & 0x3F))
                    . chr(0x80 | (($cp >> 6) & 0x3F)) . chr(0x80 | ($cp & 0x3F)),
            };
        }

        /** Unicode lowercase of a UTF-8 string (by the table). */
        public static function lowercase(string $text): string
        {
            $out = '';
            foreach (self::codePoints($text) as $cp) {
                foreach (self::lower($cp) as $low) {
                    $out .= self::utf8($low);
                }
            }
            return $out;
        }

        /**
         * A domain's A-label form: trimmed, lowercased, the UTS #46 full stops read as dots,
         * one trailing dot dropped, each label with a non-ASCII character punycoded
         * (`xn--`). `сайт.рф` → `xn--80aswg.xn--p1ai`, `Bücher.DE` → `xn--bcher-kva.de`.
         */
        public static function toAscii(string $domain): string
        {
            $domain = str_replace(self::DOTS, '.', self::lowercase(trim($domain)));
            if (str_ends_with($domain, '.')) {
                $domain = substr($domain, 0, -1);
            }
            $labels = [];
            foreach (explode('.', $domain) as $label) {
                $labels[] = preg_match('/^[\x00-\x7F]*$/', $label) ? $label : 'xn--' . self::punycode(self::codePoints($label));
            }
            return implode('.', $labels);
        }

        /** RFC 3492 §6.3: the punycode of a label's code points (without the `xn--`). */
        public static function punycode(array $input): string
        {
            $output = '';
            foreach ($input as $cp) {
                if ($cp < 0x80) {
                    $output .= chr($cp);
                }
            }
            $basic = strlen($output);
            $handled = $basic;
            if ($basic > 0) {
                $output .= '-';
            }
            $n = self::INITIAL_N;
            $delta = 0;
            $bias = self::INITIAL_BIAS;
            $total = count($input);
            while ($handled < $total) {
                $next = PHP_INT_MAX;
                foreach ($input as $cp) {
                    if ($cp >= $n && $cp < $next) {
                        $next = $cp;
                    }
                }
                $delta += ($next - $n) * ($handled + 1);
                $n = $next;
                foreach ($input as $cp) {
                    if ($cp < $n) {
                        $delta++;
                    } elseif ($cp === $n) {
                        $q = $delta;
                        for ($k = self::BASE; ; $k += self::BASE) {
                            $t = $k <= $bias ? self::TMIN : ($k >= $bias + self::TMAX ? self::TMAX : $k - $bias);
                            if ($q < $t) {
                                break;
                            }
                            $output .= self::digit($t + ($q - $t) % (self::BASE - $t));
                            $q = intdiv($q - $t, self::BASE - $t);
                        }
                        $output .= self::digit($q);
                        $bias = self::adapt($delta, $handled + 1, $handled === $basic);
                        $delta = 0;
                        $handled++;
                    }
                }
                $delta++;
                $n++;
            }
            return $output;
        }

        private static function adapt(int $delta, int $points, bool $first): int
        {
            $delta = $first ? intdiv($delta, self::DAMP) : intdiv($delta, 2);
            $delta += intdiv($delta, $points);
            $k = 0;
            while ($delta > intdiv((self::BASE - self::TMIN) * self::TMAX, 2)) {
                $delta = intdiv($delta, self::BASE - self::TMIN);
                $k += self::BASE;
            }
            return $k + intdiv((self::BASE - self::TMIN + 1) * $delta, $delta + self::SKEW);
        }

        private static function digit(int $d): string
        {
            return chr($d < 26 ? 0x61 + $d : 0x30 + $d - 26);
        }
    }

    /**
     * Who an account is, across retries. FOSSBilling gives a manager no order or service id
     * (nor, in its hosting service, the client's id), so isphooks' `service_id` is made of
     * what every call carries: the client's e-mail and the domain.
     */
    final class Identity
    {
        public const PREFIX = 'fb-';
        public const USERNAME_LENGTH = 16;
        public const USERNAME_HASH = 4;

        /** `fb-` + the first 20 hex digits of SHA-256 of "<e-mail, lowercased>|<A-label>". */
        public static function serviceId(string $email, string $domain): string
        {
            $email = Idn::lowercase(trim($email));
            $aLabel = Idn::toAscii($domain);
            if ($email === '') {
                throw new SettingError('the account has no client e-mail: isphooks identifies a FOSSBilling account by it and the domain');
            }
            if ($aLabel === '') {
                throw new SettingError('the account has no domain: isphooks identifies a FOSSBilling account by it and the client\'s e-mail');
            }
            return self::PREFIX . substr(hash('sha256', $email . '|' . $aLabel), 0, 20);
        }

        /**
         * A login from the domain, the same every time: its A-label stripped to a-z0-9,
         * `u` in front when that does not start with a letter, cut to 12 characters, and 4
         * hex digits of the A-label's SHA-256 (`shop.example.com` → `shopexamplec` + 4).
         */
        public static function username(string $domain): string
        {
            $aLabel = Idn::toAscii($domain);
            $stem = (string) preg_replace('/[^a-z0-9]/', '', $aLabel);
            if (!preg_match('/^[a-z]/', $stem)) {
                $stem = 'u' . $stem;
            }
            return substr($stem, 0, self::USERNAME_LENGTH - self::USERNAME_HASH)
                . substr(hash('sha256', $aLabel), 0, self::USERNAME_HASH);
        }
    }

    /** A FOSSBilling hosting plan (Server_Package) → isphooks' `plan` (docs/interface.md §3). */
    final class Plan
    {
        public const TEMPLATE_KEY = 'template';
        private const MAX_COUNT = 2147483647;
        private const MIB_PER = ['' => 1, 'm' => 1, 'mb' => 1, 'mib' => 1, 'g' => 1024, 'gb' => 1024,
            'gib' => 1024, 't' => 1048576, 'tb' => 1048576, 'tib' => 1048576];

        /**
         * The template: the plan's additional parameter `template`, else its name. Limits:
         * Disk Quota → disk_mib, Bandwidth → traffic_mib (MB, or with a unit: 2G), Maximum
         * Addon Domains + 1 (the main domain) → web_domains and mail_domains, Maximum FTP
         * Accounts → ftp_users, Maximum Databases → databases, Maximum Email Accounts →
         * mailboxes. An empty or `unlimited` value is left out: the template's value stands.
         * getMaxQuota() is the disk quota again, not a mailbox quota: not sent.
         */
        public static function fromPackage(\Server_Package $package): array
        {
            try {
                $template = trim((string) $package->getCustomValue(self::TEMPLATE_KEY));
            } catch (\TypeError) { // a value that is no string, put into the plan's JSON by hand
                throw new SettingError('the hosting plan\'s parameter "template" must be text');
            }
            if ($template === '') {
                $template = trim((string) $package->getName());
            }
            if ($template === '') {
                throw new SettingError('the hosting plan has no name and no parameter "template" (the ISPmanager template)');
            }
            $limits = [];
            $disk = self::value($package->getQuota());
            if ($disk !== null) {
                $limits['disk_mib'] = self::mib('Disk Quota', $disk);
            }
            $traffic = self::value($package->getBandwidth());
            if ($traffic !== null) {
                $limits['traffic_mib'] = self::mib('Bandwidth', $traffic);
            }
            $addon = self::value($package->getMaxDomains());
            if ($addon !== null) {
                $domains = self::count('Maximum Addon Domains', $addon);
                if ($domains >= self::MAX_COUNT) {
                    throw new SettingError('the hosting plan\'s "Maximum Addon Domains" is too large');
                }
                $limits['web_domains'] = $limits['mail_domains'] = $domains + 1;
            }
            foreach ([['ftp_users', 'Maximum FTP Accounts', $package->getMaxFtp()],
                ['databases', 'Maximum Databases', $package->getMaxSql()],
                ['mailboxes', 'Maximum Email Accounts', $package->getMaxPop()]] as [$field, $label, $raw]) {
                $value = self::value($raw);
                if ($value !== null) {
                    $limits[$field] = self::count($label, $value);
                }
            }
            ksort($limits);
            return ['template' => $template] + ($limits !== [] ? ['limits' => $limits] : []);
        }

        /** null for "leave it to the template": empty, or `unlimited` in any case. */
        private static function value(?string $raw): ?string
        {
            $value = trim((string) $raw);
            return $value === '' || strcasecmp($value, 'unlimited') === 0 ? null : $value;
        }

        public static function count(string $label, string $value): int
        {
            if (!preg_match('/^\d{1,10}$/', $value) || (int) $value > self::MAX_COUNT) {
                throw new SettingError('the hosting plan\'s "' . $label . '" must be a whole number, "unlimited" or empty');
            }
            return (int) $value;
        }

        /** MiB (FOSSBilling's MB), with an optional unit: 512, 512M, 2G, 2 GiB, 1T. */
        public static function mib(string $label, string $value): int
        {
            if (!preg_match('/^(\d{1,10})\s*([a-z]*)$/i', $value, $m) || !isset(self::MIB_PER[strtolower($m[2])])) {
                throw new SettingError('the hosting plan\'s "' . $label . '" must be MB (e.g. 1024 or 2G), "unlimited" or empty');
            }
            $mib = (int) $m[1] * self::MIB_PER[strtolower($m[2])];
            if ($mib > self::MAX_COUNT) {
                throw new SettingError('the hosting plan\'s "' . $label . '" is too large');
            }
            return $mib;
        }
    }
}

namespace {

    use IsphooksFossbilling\Client;
    use IsphooksFossbilling\Exchange;
    use IsphooksFossbilling\Identity;
    use IsphooksFossbilling\IsphooksError;
    use IsphooksFossbilling\Plan;
    use IsphooksFossbilling\SettingError;
    use IsphooksFossbilling\Settings;
    use IsphooksFossbilling\Text;

    /**
     * FOSSBilling's server manager for isphooks. Each method is one signed isphooks request
     * (the renames none) and returns true — or the object FOSSBilling expects — only on
     * success; anything else, a `superseded` answer included, is a Server_Exception whose
     * message (HTML-escaped) FOSSBilling shows the admin or the client.
     */
    class Server_Manager_Isphooks extends Server_Manager
    {
        public const LABEL = 'isphooks (ISPmanager 6)';
        /** What FOSSBilling's hosting service passes as the password after activation. */
        public const PASSWORD_PLACEHOLDER = '********';
        /** The Server_Exception code of a bad setting, as FOSSBilling's own managers use. */
        public const SETTING_ERROR_CODE = 2001;
        private const MIN_PASSWORD = 8;
        private const MAX_PASSWORD = 128;

        /** @var callable|null a transport for tests; null: curl */
        private $transport = null;
        /** The body of the request being made, for the text of its failure. */
        private array $current = [];

        /**
         * The server form. FOSSBilling renders `form.credentials.fields` into its server page
         * and saves only `username`, `password` and `accesshash` of them; Hostname, IP, Port
         * and "Use Secure Connection" are fields of its own form. `settings` declares every
         * setting this manager reads and where it is entered (`panel_url`: the server's
         * config JSON, which FOSSBilling's form cannot write; see docs/fossbilling.md).
         */
        public static function getForm(): array
        {
            $username = ['name' => 'username', 'type' => 'text', 'label' => 'isphooks server name',
                'placeholder' => 'The server\'s name in the isphooks config (a key of "servers", e.g. isp1)',
                'required' => true];
            $password = ['name' => 'password', 'type' => 'password', 'label' => 'Webhook secret',
                'placeholder' => 'whsec_… (one of isphooks\' webhook_secrets)', 'required' => true, 'secret' => true];
            $accesshash = ['name' => 'accesshash', 'type' => 'text', 'label' => 'isphooks URL template (optional)',
                'placeholder' => 'https://REGION-PROJECT.cloudfunctions.net/isphooks-{action}; empty: https://Hostname:Port/{action}',
                'required' => false];
            return [
                'label' => self::LABEL,
                'form' => ['credentials' => ['fields' => [$username, $password, $accesshash]]],
                'settings' => [
                    ['name' => 'host', 'type' => 'text', 'label' => 'Hostname', 'required' => false, 'secret' => false,
                        'entered' => 'FOSSBilling server form: Hostname',
                        'description' => 'where isphooks answers, https://Hostname:Port/<action>, without an Access Hash'],
                    ['name' => 'ip', 'type' => 'text', 'label' => 'IP', 'required' => false, 'secret' => false,
                        'entered' => 'FOSSBilling server form: IP',
                        'description' => 'used for the URL only when Hostname is empty'],
                    ['name' => 'port', 'type' => 'number', 'label' => 'Connection Port', 'required' => false, 'secret' => false,
                        'entered' => 'FOSSBilling server form: Connection Port',
                        'description' => 'the port of https://Hostname:Port/<action>; empty: 443'],
                    ['name' => 'secure', 'type' => 'bool', 'label' => 'Use Secure Connection', 'required' => false,
                        'secret' => false, 'entered' => 'FOSSBilling server form: Use Secure Connection',
                        'description' => 'cleared: http:// — for a loopback host only (a local isphooks serve)'],
                    $username + ['entered' => 'credentials: Username'],
                    $password + ['entered' => 'credentials: Password'],
                    $accesshash + ['entered' => 'credentials: Access Hash', 'secret' => false],
                    ['name' => 'panel_url', 'type' => 'text', 'label' => 'Panel URL', 'required' => false, 'secret' => false,
                        'entered' => 'the server\'s config JSON (service_hosting_server.config), key panel_url',
                        'description' => 'the panel\'s address for the login link of the server list and the welcome e-mail'],
                ],
            ];
        }

        /** The credential FOSSBilling masks besides its own (password, accesshash). */
        public static function getSecretFields(): array
        {
            return ['password'];
        }

        /** Checks the settings when FOSSBilling constructs the manager (saving a server does). */
        protected function init(): void
        {
            try {
                Settings::server($this->_config);
                Settings::secret($this->_config);
                Settings::urlTemplate($this->_config);
            } catch (SettingError $error) {
                throw self::settingException($error);
            }
        }

        /** For tests: how requests travel (null: curl). */
        public function setTransport(?callable $transport): static
        {
            $this->transport = $transport;
            return $this;
        }

        /** Deterministic, so that a retried activation asks for the same account (Identity). */
        public function generateUsername(string $domain): string
        {
            try {
                return Identity::username($domain);
            } catch (SettingError $error) {
                throw self::settingException($error);
            }
        }

        /** FOSSBilling's "Password Length", within what isphooks accepts (8–128). */
        public function getPasswordLength(): int
        {
            return max(self::MIN_PASSWORD, min(self::MAX_PASSWORD, parent::getPasswordLength()));
        }

        // -- login URLs ---------------------------------------------------------------------

        /** null (FOSSBilling asks each time it builds a service's or server's data): the
         *  configured panel_url or '', with no request; an account: a one-time login URL. */
        public function getLoginUrl(?Server_Account $account): string
        {
            if ($account === null) {
                return Settings::panelUrl($this->_config);
            }
            return $this->sso($account, self::kind($account));
        }

        public function getResellerLoginUrl(?Server_Account $account): string
        {
            if ($account === null) {
                return Settings::panelUrl($this->_config);
            }
            return $this->sso($account, 'reseller');
        }

        private function sso(Server_Account $account, string $kind): string
        {
            return $this->guard('sso', function () use ($account, $kind): string {
                $answer = $this->request('sso', $this->account($account, $kind) + ['as' => 'user']);
                $url = $answer['url'] ?? null;
                if (!is_string($url) || !preg_match('#^https?://[^\s"\'<>]+$#i', $url)) {
                    throw new IsphooksError('bad_response', 'the sso answer carries no login URL', false, 200);
                }
                return $url;
            });
        }

        // -- the server ---------------------------------------------------------------------

        public function testConnection(): bool
        {
            return $this->guard('check', function (): bool {
                $server = Settings::server($this->_config);
                $answer = $this->request('check', ['server' => $server]);
                $report = null;
                foreach ((array) ($answer['servers'] ?? []) as $entry) {
                    if (is_array($entry) && ($entry['server'] ?? null) === $server) {
                        $report = $entry;
                    }
                }
                if ($report === null) {
                    throw new IsphooksError('bad_response', 'the check answer does not report server ' . $server, false, 200);
                }
                if (($report['ok'] ?? false) !== true) {
                    throw new \Server_Exception('isphooks check of :server failed: :error', [
                        ':server' => Text::html($server),
                        ':error' => Text::html(Text::oneLine((string) ($report['error'] ?? 'not reachable'))),
                    ]);
                }
                return true;
            });
        }

        // -- account actions ----------------------------------------------------------------

        public function createAccount(Server_Account $account): bool
        {
            return $this->guard('create', function () use ($account): bool {
                $body = $this->account($account, self::kind($account));
                $password = (string) $account->getPassword();
                if ($password !== '' && $password !== self::PASSWORD_PLACEHOLDER) {
                    $body['password'] = $password;
                } else {
                    // isphooks makes one; FOSSBilling has nowhere to keep it: the client sets
                    // one with Change Password.
                    $this->getLog()?->warning('isphooks create ' . $body['username'] . ': FOSSBilling passed no password;'
                        . ' isphooks generates one, which nobody sees: set one with Change Password');
                }
                $body['domain'] = trim((string) $account->getDomain());
                $body['email'] = trim((string) $account->getClient()?->getEmail());
                $body['plan'] = Plan::fromPackage(self::package($account));
                $this->applied($this->request('create', $body));
                return true;
            });
        }

        /** `status`: the account as the panel holds it — its login, whether it is suspended,
         *  its template as the package's name. isphooks reports no address: the IP stays. */
        public function synchronizeAccount(Server_Account $account): Server_Account
        {
            return $this->guard('status', function () use ($account): Server_Account {
                $body = $this->account($account, self::kind($account));
                $answer = $this->request('status', $body);
                $where = $body['username'] . ' on ' . $body['server'];
                if (($answer['exists'] ?? false) !== true) {
                    throw new \Server_Exception('isphooks: :message', [':message' => Text::html('there is no account '
                        . $where . ' (this service is ' . $body['service_id'] . ' in isphooks): its creation never'
                        . ' reached the panel, or the account was deleted there. See "After a failed activation" in isphooks\' docs/fossbilling.md')], 404);
                }
                if (($answer['ours'] ?? false) !== true) {
                    $marker = $answer['marker'] ?? null;
                    throw new \Server_Exception('isphooks: :message', [':message' => Text::html('the account ' . $where
                        . ' is not this service\'s: ' . (is_string($marker) ? 'it carries the marker of service ' . $marker
                        : 'it carries no isphooks marker of a single service') . ', and this service is '
                        . $body['service_id'] . ' (from the client\'s e-mail and the domain)')], 409);
                }
                $synced = clone $account;
                if (is_string($answer['username'] ?? null) && $answer['username'] !== '') {
                    $synced->setUsername($answer['username']);
                }
                if (is_bool($answer['active'] ?? null)) {
                    $synced->setSuspended(!$answer['active']);
                }
                if (is_string($answer['template'] ?? null) && $answer['template'] !== '') {
                    try {
                        $package = clone $account->getPackage();
                    } catch (\TypeError) {
                        $package = new Server_Package();
                    }
                    $synced->setPackage($package->setName($answer['template']));
                }
                return $synced;
            });
        }

        /** `suspend`, with FOSSBilling's reason (the account's note) as `reason`. */
        public function suspendAccount(Server_Account $account): bool
        {
            return $this->guard('suspend', function () use ($account): bool {
                $body = $this->account($account, self::kind($account));
                $reason = Text::freeText((string) $account->getNote());
                if ($reason !== '') {
                    $body['reason'] = $reason;
                }
                $this->applied($this->request('suspend', $body));
                return true;
            });
        }

        public function unsuspendAccount(Server_Account $account): bool
        {
            return $this->accountAction('unsuspend', $account);
        }

        /** `terminate`: an account already gone is success (`absent`). */
        public function cancelAccount(Server_Account $account): bool
        {
            return $this->accountAction('terminate', $account);
        }

        public function changeAccountPassword(Server_Account $account, string $newPassword): bool
        {
            return $this->accountAction('password', $account, ['password' => $newPassword]);
        }

        /** `upgrade` with the new plan's template and limits. */
        public function changeAccountPackage(Server_Account $account, Server_Package $package): bool
        {
            return $this->guard('upgrade', function () use ($account, $package): bool {
                $body = $this->account($account, self::kind($account)) + ['plan' => Plan::fromPackage($package)];
                $this->applied($this->request('upgrade', $body));
                return true;
            });
        }

        public function changeAccountUsername(Server_Account $account, string $newUsername): bool
        {
            throw self::refused('isphooks never renames an account: an ISPmanager login cannot be changed in place,'
                . ' so the service keeps its username. Nothing was changed.');
        }

        public function changeAccountDomain(Server_Account $account, string $newDomain): bool
        {
            throw self::refused('isphooks never changes an account\'s domain (it is part of how isphooks knows the'
                . ' service): add the new domain in ISPmanager, where the account keeps its login. Nothing was changed.');
        }

        public function changeAccountIp(Server_Account $account, string $newIp): bool
        {
            throw self::refused('isphooks never moves an account to another address: addresses are given when the'
                . ' account is made. Nothing was changed.');
        }

        // -- the requests -------------------------------------------------------------------

        private function accountAction(string $action, Server_Account $account, array $extra = []): bool
        {
            return $this->guard($action, function () use ($action, $account, $extra): bool {
                $this->applied($this->request($action, $this->account($account, self::kind($account)) + $extra));
                return true;
            });
        }

        /** The body fields that name the account. */
        private function account(Server_Account $account, string $kind): array
        {
            $username = trim((string) $account->getUsername());
            if ($username === '') {
                throw new SettingError('the service has no username');
            }
            $this->current = [
                'service_id' => Identity::serviceId((string) $account->getClient()?->getEmail(), (string) $account->getDomain()),
                'server' => Settings::server($this->_config),
                'username' => $username,
                'kind' => $kind,
            ];
            return $this->current;
        }

        private static function kind(Server_Account $account): string
        {
            return $account->getReseller() ? 'reseller' : 'user';
        }

        private static function package(Server_Account $account): Server_Package
        {
            try {
                return $account->getPackage();
            } catch (\TypeError) { // Server_Account::getPackage() is not nullable
                throw new SettingError('the account has no hosting plan');
            }
        }

        /**
         * One signed request, with `event_time` = now: FOSSBilling passes a manager no time
         * of its decision, and calls it when it decides (an admin's action, its cron).
         */
        private function request(string $action, array $body): array
        {
            $client = new Client(Settings::urlTemplate($this->_config), Settings::secret($this->_config), $this->transport);
            $exchange = $client->send($action, $body + ['event_time' => Client::nowMs()]);
            $this->log($exchange, $body);
            return Client::result($exchange);
        }

        /** One line per request: what was asked and what came back — never a body. */
        private function log(Exchange $exchange, array $body): void
        {
            $answer = $exchange->json ?? [];
            $outcome = $exchange->transportError !== '' ? 'no answer'
                : 'HTTP ' . $exchange->status . ' ' . (is_string($answer['status'] ?? null) ? $answer['status']
                    : (string) ($answer['error']['code'] ?? 'without an isphooks answer'));
            $what = 'isphooks ' . $exchange->action . (isset($body['username']) ? ' ' . $body['username'] : '')
                . (isset($body['server']) ? ' on ' . $body['server'] : '');
            $line = Text::oneLine($what . ': ' . $outcome . ' (webhook-id ' . $exchange->webhookId . ')');
            $context = ['action' => $exchange->action, 'webhook_id' => $exchange->webhookId, 'http_status' => $exchange->status];
            $ok = $exchange->transportError === '' && $exchange->status >= 200 && $exchange->status < 300;
            if ($ok) {
                $this->getLog()?->info($line, $context);
            } else {
                $this->getLog()?->warning($line, $context);
            }
            if (is_array($answer['repaired'] ?? null) && $answer['repaired'] !== []) {
                $this->getLog()?->warning(Text::oneLine($what . ': isphooks repaired '
                    . implode(', ', array_map('strval', $answer['repaired'])) . ' to the newest recorded decision'), $context);
            }
        }

        /** A `superseded` answer is no success: a newer decision about the account stands. */
        private function applied(array $answer): void
        {
            if (($answer['status'] ?? '') !== 'superseded') {
                return;
            }
            $at = (int) ($answer['recorded_event_time'] ?? 0);
            throw new \Server_Exception('isphooks superseded: :message', [':message' => Text::html(
                'a newer decision about account ' . ($this->current['username'] ?? '?') . ' on '
                . ($this->current['server'] ?? '?')
                . ($at > 0 ? ' (made ' . gmdate('Y-m-d H:i:s', intdiv($at, 1000)) . ' UTC)' : '')
                . ' stands on the panel; isphooks changed nothing, and FOSSBilling keeps the service as it was')], 409);
        }

        /**
         * Runs one method; every failure becomes the Server_Exception FOSSBilling shows, its
         * text HTML-escaped (isphooks' messages quote the panel's), never with the secret.
         */
        private function guard(string $action, callable $call): mixed
        {
            $this->current = [];
            try {
                return $call();
            } catch (\Server_Exception $error) {
                throw $error;
            } catch (SettingError $error) {
                throw self::settingException($error);
            } catch (IsphooksError $error) {
                throw $this->failure($action, $error);
            } catch (\Throwable $error) {
                $message = str_replace($this->secretForms(), '********',
                    Text::oneLine(get_class($error) . ': ' . $error->getMessage()));
                $this->getLog()?->error('isphooks ' . $action . ': ' . $message);
                throw new \Server_Exception('isphooks manager error: :message', [':message' => Text::html($message)]);
            }
        }

        private function failure(string $action, IsphooksError $error): \Server_Exception
        {
            $text = str_replace($this->secretForms(), '********', Text::oneLine($error->getMessage()));
            $serviceId = $this->current['service_id'] ?? '';
            if ($error->retryable) {
                $text .= ' (isphooks or the panel may be back soon: running this again is safe, isphooks converges'
                    . ' and never makes a second account)';
            }
            if ($action === 'create') {
                $text .= ' — FOSSBilling keeps the username it chose and may mark the order active without calling'
                    . ' isphooks when it is activated again: press Sync on the service first (isphooks knows it as '
                    . $serviceId . ', login ' . ($this->current['username'] ?? '') . '; isphooks\' docs/fossbilling.md, "After a failed activation")';
            } elseif ($error->errorCode === 'conflict' && $serviceId !== ''
                && str_contains($error->getMessage(), 'belongs to another service')) {
                $text .= ' — isphooks knows this service as ' . $serviceId . ' (from the client\'s e-mail and the'
                    . ' domain): if the client\'s e-mail changed since the account was made, its marker names the'
                    . ' old one (isphooks\' docs/fossbilling.md)';
            } elseif ($error->errorCode === 'unowned_account') {
                $text .= ' — the account carries no isphooks marker (made by hand or by another module): adopt it'
                    . ' once with reconcile and adopt_unmarked (isphooks\' docs/fossbilling.md)';
            }
            $this->getLog()?->warning(Text::oneLine('isphooks ' . $action . ' failed: ' . $error->errorCode . ': ' . $text));
            return new \Server_Exception('isphooks :code: :message', [
                ':code' => Text::html($error->errorCode),
                ':message' => Text::html($text),
            ], $error->httpStatus);
        }

        private static function settingException(SettingError $error): \Server_Exception
        {
            return new \Server_Exception('isphooks setting: :message', [':message' => Text::html($error->getMessage())],
                self::SETTING_ERROR_CODE);
        }

        private static function refused(string $message): \Server_Exception
        {
            return new \Server_Exception('isphooks: :message', [':message' => Text::html($message)]);
        }

        /** @return list<string> the secret as it could appear in a message */
        private function secretForms(): array
        {
            $secret = trim((string) ($this->_config['password'] ?? ''));
            $forms = [];
            if ($secret !== '') {
                $forms[] = $secret;
                if (str_starts_with($secret, Client::SECRET_PREFIX) && strlen($secret) > strlen(Client::SECRET_PREFIX)) {
                    $forms[] = substr($secret, strlen(Client::SECRET_PREFIX));
                }
            }
            return $forms;
        }
    }
}
