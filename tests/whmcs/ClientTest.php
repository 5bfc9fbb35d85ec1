<?php
declare(strict_types=1);

use IsphooksWhmcs\Client;
use IsphooksWhmcs\Exchange;
use IsphooksWhmcs\IsphooksError;
use IsphooksWhmcs\SettingError;
use PHPUnit\Framework\TestCase;

final class ClientTest extends TestCase
{
    private const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    public function testStandardWebhooksTestVector(): void
    {
        // The specification's published vector (standard-webhooks, "test vectors").
        $this->assertSame(
            'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
            Client::signature(self::SECRET, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
        );
    }

    public function testSecretWithoutPaddingDecodes(): void
    {
        $key = random_bytes(32);
        $secret = 'whsec_' . rtrim(base64_encode($key), '=');
        $this->assertSame($key, Client::key($secret));
    }

    /** @dataProvider badSecrets */
    public function testBadSecretIsASettingErrorThatDoesNotEchoIt(string $secret): void
    {
        try {
            Client::key($secret);
            $this->fail('accepted ' . strlen($secret) . ' characters');
        } catch (SettingError $error) {
            $this->assertStringNotContainsString($secret, $error->getMessage());
        }
    }

    public static function badSecrets(): array
    {
        return [['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], ['whsec_%%%not-base64%%%'], ['whsec_c2hvcnQ=']];
    }

    public function testUrlFromTemplateHostnameAndPort(): void
    {
        $this->assertSame('https://eu-p.cloudfunctions.net/isphooks-{action}', Client::urlTemplate(
            ['serveraccesshash' => " https://eu-p.cloudfunctions.net/isphooks-{action}\n", 'serverhostname' => 'x']));
        $this->assertSame('https://hooks.example.net:8443/{action}', Client::urlTemplate(
            ['serverhostname' => 'hooks.example.net', 'serverport' => '8443', 'serversecure' => 'on']));
        // v1.2: https unless "Secure" is cleared AND the host is loopback
        $this->assertSame('https://10.0.0.5/{action}', Client::urlTemplate(
            ['serverhostname' => '', 'serverip' => '10.0.0.5', 'serverport' => '', 'serversecure' => '']));
        $this->assertSame('https://[2001:db8::1]:8080/{action}', Client::urlTemplate(
            ['serverhostname' => '2001:db8::1', 'serverport' => 8080, 'serversecure' => false]));
        $this->assertSame('https://hooks.example.net/{action}', Client::urlTemplate(
            ['serverhostname' => 'hooks.example.net']));
        foreach (['127.0.0.1', 'localhost', '::1', '127.8.0.3'] as $host) {
            $this->assertStringStartsWith('http://', Client::urlTemplate(
                ['serverhostname' => $host, 'serverport' => 8080, 'serversecure' => '']), $host);
            $this->assertStringStartsWith('https://', Client::urlTemplate(
                ['serverhostname' => $host, 'serverport' => 8080, 'serversecure' => 'on']), $host);
        }
        $this->assertSame('http://10.0.0.5:8080/{action}', Client::urlTemplate(  // written out: kept
            ['serveraccesshash' => 'http://10.0.0.5:8080/{action}']));
    }

    public function testTemplateWithoutActionIsRefused(): void
    {
        $this->expectException(SettingError::class);
        Client::urlTemplate(['serveraccesshash' => 'https://hooks.example.net/create']);
    }

    public function testSendSignsTheExactBodyWithEventTimeAndAUniqueId(): void
    {
        $seen = [];
        $transport = function (Exchange $exchange, array $headers, int $timeout) use (&$seen): void {
            $seen[] = [$exchange, $headers, $timeout];
            $exchange->status = 200;
            $exchange->raw = '{"status":"ok"}';
        };
        $client = new Client('http://h/{action}', self::SECRET, $transport);
        $before = Client::nowMs();
        $first = $client->send('suspend', ['service_id' => '1', 'reason' => 'a/b ü']);
        $second = $client->send('suspend', ['service_id' => '1']);
        $this->assertSame('http://h/suspend', $first->url);
        $this->assertNotSame($first->webhookId, $second->webhookId);
        $body = json_decode($first->body, true);
        $this->assertGreaterThanOrEqual($before, $body['event_time']);
        $this->assertLessThanOrEqual(Client::nowMs(), $body['event_time']);
        [, $headers, $timeout] = $seen[0];
        $this->assertSame(Client::REQUEST_TIMEOUT_S, $timeout);
        $this->assertContains('Content-Type: application/json', $headers);
        $byName = [];
        foreach ($headers as $line) {
            [$name, $value] = explode(': ', $line, 2);
            $byName[$name] = $value;
        }
        $this->assertSame($first->webhookId, $byName['webhook-id']);
        $this->assertSame(
            Client::signature(self::SECRET, $first->webhookId, (int) $byName['webhook-timestamp'], $first->body),
            $byName['webhook-signature'],
        );
    }

    public function testErrorStrings(): void
    {
        $cases = [
            [503, '{"error":{"code":"panel_unavailable","message":"panel isp1 did not answer","retryable":true}}',
                'isphooks panel_unavailable: panel isp1 did not answer (safe to retry: isphooks converges, a retry never makes a second account)'],
            [409, '{"error":{"code":"conflict","message":"bob belongs to\nservice 9","retryable":false}}',
                'isphooks conflict: bob belongs to service 9'],
            [502, '<html>Bad gateway</html>',
                'isphooks bad_response: HTTP 502 without an isphooks answer (is the URL template right?) (safe to retry: isphooks converges, a retry never makes a second account)'],
            [404, 'not found', 'isphooks bad_response: HTTP 404 without an isphooks answer (is the URL template right?)'],
        ];
        foreach ($cases as [$status, $raw, $expected]) {
            $exchange = new Exchange('create', 'http://h/create', 'msg_1', '{}');
            $exchange->status = $status;
            $exchange->raw = $raw;
            $decoded = json_decode($raw, true);
            $exchange->json = is_array($decoded) ? $decoded : null;
            try {
                Client::result($exchange);
                $this->fail('no error for HTTP ' . $status);
            } catch (IsphooksError $error) {
                $this->assertSame($expected, $error->whmcsMessage());
            }
        }
        $lost = new Exchange('create', 'http://h/create', 'msg_2', '{}');
        $lost->transportError = 'no answer from h: Connection refused';
        try {
            Client::result($lost);
            $this->fail('no error for a lost connection');
        } catch (IsphooksError $error) {
            $this->assertStringStartsWith('isphooks unreachable: no answer from h', $error->whmcsMessage());
            $this->assertStringContainsString('safe to retry', $error->whmcsMessage());
        }
    }
}
