<?php
/**
 * The FOSSBilling manager signs exactly as the WHMCS modules do: the same headers for the
 * same request (the e2e suite has isphooks serve verify it, with the standardwebhooks rules).
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once dirname(__DIR__, 2) . '/integrations/whmcs/modules/servers/isphooks/lib/Client.php';

final class SigningTest extends TestCase
{
    public function testSameHeadersAsTheWhmcsClient(): void
    {
        $bodies = [['service_id' => 'fb-f621a3303eb07dfa7e9e', 'reason' => 'Неоплата / счёта "№42"'], ['server' => 'isp1']];
        foreach (['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_0jX++fpYZ9ISbgoEPIUyV0nweagQT1MK'] as $secret) {
            foreach ($bodies as $body) {
                $raw = IsphooksFossbilling\Client::encode($body);
                $this->assertSame(IsphooksWhmcs\Client::encode($body), $raw);
                $this->assertSame(
                    IsphooksWhmcs\Client::signedHeaders($secret, 'msg_abc', 1764540000, $raw),
                    IsphooksFossbilling\Client::signedHeaders($secret, 'msg_abc', 1764540000, $raw),
                );
            }
        }
    }

    /** A published Standard Webhooks example (standard-webhooks spec test vector). */
    public function testAStandardWebhooksVector(): void
    {
        $this->assertSame('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', IsphooksFossbilling\Client::signature(
            'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330,
            '{"test": 2432232314}'));
    }
}
