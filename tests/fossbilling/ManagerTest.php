<?php
/**
 * Server_Manager_Isphooks against a recording isphooks: the settings, what each method
 * sends, and what FOSSBilling gets back for each answer.
 */

declare(strict_types=1);

use FossbillingTest\ArrayLogger;
use FossbillingTest\FakeIsphooks;
use IsphooksFossbilling\Client;
use PHPUnit\Framework\TestCase;

use function FossbillingTest\account;
use function FossbillingTest\manager;
use function FossbillingTest\package;

use const FossbillingTest\SECRET;
use const FossbillingTest\SERVER;

final class ManagerTest extends TestCase
{
    private function fails(callable $call): Server_Exception
    {
        try {
            $call();
        } catch (Server_Exception $error) {
            return $error;
        }
        $this->fail('no Server_Exception');
    }

    // -- the server form and the settings ----------------------------------------------------

    public function testTheFormDeclaresEverySettingAndRendersWhatFossbillingSaves(): void
    {
        $form = Server_Manager_Isphooks::getForm();
        $this->assertSame('isphooks (ISPmanager 6)', $form['label']);
        $rendered = $form['form']['credentials']['fields'];
        // FOSSBilling's server_create / server_update save these three of the rendered fields
        $this->assertSame(['username', 'password', 'accesshash'], array_column($rendered, 'name'));
        $this->assertSame([true], array_values(array_unique(array_column(
            array_filter($rendered, fn (array $f): bool => $f['name'] === 'password'), 'secret'))));
        $this->assertSame('password', $rendered[1]['type']);
        $declared = array_column($form['settings'], null, 'name');
        $this->assertSame(['host', 'ip', 'port', 'secure', 'username', 'password', 'accesshash', 'panel_url'],
            array_keys($declared));
        $this->assertTrue($declared['password']['secret']);
        $this->assertSame(['password'], array_keys(array_filter(array_column($form['settings'], 'secret', 'name'))));
        foreach ($form['settings'] as $field) {
            $this->assertNotSame('', $field['entered'] ?? '', $field['name']);
        }
        $this->assertSame(['password'], Server_Manager_Isphooks::getSecretFields());
    }

    public function testBadSettingsAreRefusedWhenTheManagerIsMade(): void
    {
        $cases = [
            [['username' => ''], 'Username is empty'],
            [['username' => 'isp 1'], 'without spaces'],
            [['password' => ''], 'Password is empty'],
            [['password' => 'hunter2-not-a-secret'], 'must be the whsec_ webhook secret'],
            [['password' => 'whsec_c2hvcnQ='], 'not a valid whsec_ secret'],
            [['accesshash' => 'https://hooks.example.net/isphooks'], 'with {action}'],
            [['accesshash' => 'ftp://hooks.example.net/{action}'], 'https:// URL template'],
            [['accesshash' => 'http://hooks.example.net/{action}'], 'http:// only for a local isphooks'],
            [['accesshash' => '', 'ip' => '', 'host' => ''], 'set the server Hostname'],
            [['accesshash' => '', 'host' => 'https://hooks.example.net'], 'a URL goes into the Access Hash'],
            [['accesshash' => '', 'host' => 'hooks.example.net', 'port' => 70000], 'Port must be between'],
        ];
        foreach ($cases as [$settings, $text]) {
            $error = $this->fails(fn () => new Server_Manager_Isphooks($settings + SERVER));
            $this->assertSame(Server_Manager_Isphooks::SETTING_ERROR_CODE, $error->getCode());
            $this->assertStringStartsWith('isphooks setting: ', $error->getMessage());
            $this->assertStringContainsString(htmlspecialchars($text, ENT_QUOTES | ENT_HTML5), $error->getMessage());
        }
        $error = $this->fails(fn () => new Server_Manager_Isphooks(['password' => 'whsec_!!notbase64!!'] + SERVER));
        $this->assertStringNotContainsString('notbase64', $error->getMessage()); // never the secret
    }

    public function testTheUrlOfEachAction(): void
    {
        $urls = [];
        foreach ([
            [[], 'https://hooks.example.net/isphooks-check'],
            [['accesshash' => '', 'host' => 'hooks.example.net', 'port' => 8443], 'https://hooks.example.net:8443/check'],
            [['accesshash' => '', 'host' => '', 'ip' => '198.51.100.7'], 'https://198.51.100.7/check'],
            [['accesshash' => '', 'host' => 'hooks.example.net', 'secure' => false], 'https://hooks.example.net/check'],
            [['accesshash' => '', 'host' => '127.0.0.1', 'port' => 8080, 'secure' => false], 'http://127.0.0.1:8080/check'],
            [['accesshash' => '', 'host' => '127.0.0.1', 'port' => 8080, 'secure' => true], 'https://127.0.0.1:8080/check'],
            [['accesshash' => '', 'host' => '::1', 'port' => 8080, 'secure' => false], 'http://[::1]:8080/check'],
            [['accesshash' => '', 'host' => '2001:db8::5'], 'https://[2001:db8::5]/check'],
            [['accesshash' => 'http://localhost:8080/{action}'], 'http://localhost:8080/check'],
            [['accesshash' => 'https://isphooks-{action}-x7.a.run.app/'], 'https://isphooks-check-x7.a.run.app/'],
        ] as [$settings, $url]) {
            $fake = new FakeIsphooks();
            manager($fake, $settings)->testConnection();
            $urls[] = [$fake->last()['url'], $url];
        }
        foreach ($urls as [$got, $want]) {
            $this->assertSame($want, $got);
        }
    }

    public function testEveryRequestIsSignedTheStandardWebhooksWay(): void
    {
        $fake = new FakeIsphooks();
        $before = (int) floor(microtime(true) * 1000);
        manager($fake)->suspendAccount(account());
        $sent = $fake->last();
        $headers = $sent['headers'];
        $this->assertMatchesRegularExpression('/^msg_[0-9a-f]{32}$/', $headers['webhook-id']);
        $this->assertEqualsWithDelta(time(), (int) $headers['webhook-timestamp'], 5);
        $key = base64_decode(substr(SECRET, 6), true);
        $expected = 'v1,' . base64_encode(hash_hmac('sha256',
            $headers['webhook-id'] . '.' . $headers['webhook-timestamp'] . '.' . $sent['raw'], $key, true));
        $this->assertSame($expected, $headers['webhook-signature']);
        $this->assertSame('application/json', $headers['content-type']);
        // the decision time: when FOSSBilling called the manager
        $this->assertGreaterThanOrEqual($before, $sent['body']['event_time']);
        $this->assertLessThanOrEqual((int) floor(microtime(true) * 1000), $sent['body']['event_time']);
    }

    // -- what each method sends ----------------------------------------------------------------

    public function testCreateSendsTheAccountThePlanAndItsIdentity(): void
    {
        $fake = new FakeIsphooks();
        $account = account(['password' => 'Fresh-Pass-123', 'domain' => 'Сайт.рф', 'username' => 'xn80aswgxnp114c4']);
        $this->assertTrue(manager($fake)->createAccount($account));
        $this->assertSame('create', $fake->last()['action']);
        $body = $fake->last()['body'];
        unset($body['event_time']);
        $this->assertSame([
            'service_id' => 'fb-f77e1af564fcce174da7', 'server' => 'isp1', 'username' => 'xn80aswgxnp114c4',
            'kind' => 'user', 'password' => 'Fresh-Pass-123', 'domain' => 'Сайт.рф', 'email' => 'Owner@Example.com',
            'plan' => ['template' => 'basic', 'limits' => ['disk_mib' => 1024]],
        ], $body);

        $this->assertTrue(manager($fake)->createAccount(account(['reseller' => true, 'password' => 'Fresh-Pass-123'])));
        $this->assertSame('reseller', $fake->last()['body']['kind']);
    }

    public function testCreateWithThePasswordPlaceholderLetsIsphooksMakeOne(): void
    {
        $fake = new FakeIsphooks();
        $logger = new ArrayLogger();
        manager($fake, [], $logger)->createAccount(account(['password' => '********']));
        $this->assertArrayNotHasKey('password', $fake->last()['body']);
        $this->assertStringContainsString('set one with Change Password', $logger->text());
    }

    public function testTheOtherActions(): void
    {
        $fake = new FakeIsphooks();
        $manager = manager($fake);
        $account = account(['note' => "Неоплата счёта\u{202E} №42\nвторая строка"]);
        $this->assertTrue($manager->suspendAccount($account));
        $this->assertSame('Неоплата счёта №42 вторая строка', $fake->last()['body']['reason']);
        $this->assertArrayNotHasKey('reason', ($manager->suspendAccount(account()) ? $fake->last() : [])['body']);

        $this->assertTrue($manager->unsuspendAccount(account()));
        $this->assertSame('unsuspend', $fake->last()['action']);
        $this->assertTrue($manager->cancelAccount(account()));
        $this->assertSame('terminate', $fake->last()['action']);
        $this->assertArrayNotHasKey('force', $fake->last()['body']);

        $this->assertTrue($manager->changeAccountPassword(account(), 'New-Pass-456'));
        $this->assertSame(['password', 'New-Pass-456'], [$fake->last()['action'], $fake->last()['body']['password']]);

        $this->assertTrue($manager->changeAccountPackage(account(), package(['setName' => 'Pro', 'setQuota' => '5000'])));
        $this->assertSame(['upgrade', ['template' => 'Pro', 'limits' => ['disk_mib' => 5000]]],
            [$fake->last()['action'], $fake->last()['body']['plan']]);

        foreach ($fake->sent as $sent) {
            $this->assertSame(['service_id' => 'fb-f621a3303eb07dfa7e9e', 'server' => 'isp1',
                'username' => 'shopexamplec9516', 'kind' => 'user'], array_intersect_key($sent['body'],
                ['service_id' => 1, 'server' => 1, 'username' => 1, 'kind' => 1]));
            $this->assertIsInt($sent['body']['event_time']);
        }
    }

    public function testAlreadyDoneIsSuccess(): void
    {
        $fake = (new FakeIsphooks())
            ->answer(200, ['action' => 'suspend', 'status' => 'already_suspended'])
            ->answer(200, ['action' => 'unsuspend', 'status' => 'already_active'])
            ->answer(200, ['action' => 'terminate', 'status' => 'absent'])
            ->answer(200, ['action' => 'upgrade', 'status' => 'unchanged', 'changed' => []])
            ->answer(200, ['action' => 'create', 'status' => 'exists']);
        $manager = manager($fake);
        $this->assertTrue($manager->suspendAccount(account()));
        $this->assertTrue($manager->unsuspendAccount(account()));
        $this->assertTrue($manager->cancelAccount(account()));
        $this->assertTrue($manager->changeAccountPackage(account(), package(['setName' => 'basic'])));
        $this->assertTrue($manager->createAccount(account(['password' => 'Fresh-Pass-123'])));
    }

    public function testSupersededIsNoSuccess(): void
    {
        $at = 1764540000000;
        $calls = [
            'suspend' => fn (Server_Manager_Isphooks $m) => $m->suspendAccount(account()),
            'unsuspend' => fn (Server_Manager_Isphooks $m) => $m->unsuspendAccount(account()),
            'terminate' => fn (Server_Manager_Isphooks $m) => $m->cancelAccount(account()),
            'upgrade' => fn (Server_Manager_Isphooks $m) => $m->changeAccountPackage(account(), package(['setName' => 'b'])),
            'password' => fn (Server_Manager_Isphooks $m) => $m->changeAccountPassword(account(), 'New-Pass-456'),
            'create' => fn (Server_Manager_Isphooks $m) => $m->createAccount(account(['password' => 'Fresh-Pass-1'])),
        ];
        foreach ($calls as $action => $call) {
            $fake = (new FakeIsphooks())->answer(200, ['action' => $action, 'status' => 'superseded',
                'recorded_event_time' => $at, 'server' => 'isp1']);
            $error = $this->fails(fn () => $call(manager($fake)));
            $this->assertSame('isphooks superseded: a newer decision about account shopexamplec9516 on isp1'
                . ' (made 2025-11-30 22:00:00 UTC) stands on the panel; isphooks changed nothing, and FOSSBilling'
                . ' keeps the service as it was', $error->getMessage(), $action);
            $this->assertSame(409, $error->getCode());
        }
    }

    // -- errors ------------------------------------------------------------------------------

    public function testAnIsphooksErrorIsAServerExceptionWithItsMessageEscaped(): void
    {
        $fake = (new FakeIsphooks())->error(422, 'panel_rejected', 'limit_quota: <img src=x onerror=alert(1)> & "more"');
        $error = $this->fails(fn () => manager($fake)->changeAccountPackage(account(), package(['setName' => 'b'])));
        $this->assertSame('isphooks panel_rejected: limit_quota: &lt;img src=x onerror=alert(1)&gt;'
            . ' &amp; &quot;more&quot;', $error->getMessage());
        $this->assertSame(422, $error->getCode());
        $this->assertStringNotContainsString('retry', $error->getMessage()); // a 4xx: running it again will not help
    }

    public function testA5xxSaysARetryMayHelp(): void
    {
        $fake = (new FakeIsphooks())->error(503, 'panel_unavailable', 'isp1: connection refused');
        $error = $this->fails(fn () => manager($fake)->suspendAccount(account()));
        $this->assertSame('isphooks panel_unavailable: isp1: connection refused (isphooks or the panel may be back soon:'
            . ' running this again is safe, isphooks converges and never makes a second account)', $error->getMessage());
        $this->assertSame(503, $error->getCode());

        $fake = (new FakeIsphooks())->answer(0, 'Failed to connect to hooks.example.net port 443');
        $error = $this->fails(fn () => manager($fake)->suspendAccount(account()));
        $this->assertStringStartsWith('isphooks unreachable: Failed to connect', $error->getMessage());
        $this->assertStringContainsString('running this again is safe', $error->getMessage());

        $fake = (new FakeIsphooks())->answer(502, '<html>Bad Gateway</html>');
        $error = $this->fails(fn () => manager($fake)->suspendAccount(account()));
        $this->assertStringStartsWith('isphooks bad_response: HTTP 502 without an isphooks answer', $error->getMessage());
        $this->assertStringContainsString('running this again is safe', $error->getMessage());
    }

    public function testAFailedCreateSaysToSyncBeforeActivatingAgain(): void
    {
        $fake = (new FakeIsphooks())->error(500, 'internal', 'boom');
        $error = $this->fails(fn () => manager($fake)->createAccount(account(['password' => 'Fresh-Pass-1'])));
        $this->assertStringContainsString('FOSSBilling keeps the username it chose and may mark the order active'
            . ' without calling isphooks when it is activated again: press Sync on the service first (isphooks knows it'
            . ' as fb-f621a3303eb07dfa7e9e, login shopexamplec9516', $error->getMessage());
        $fake = (new FakeIsphooks())->error(409, 'conflict', 'username shopexamplec9516 is taken');
        $error = $this->fails(fn () => manager($fake)->createAccount(account(['password' => 'Fresh-Pass-1'])));
        $this->assertStringContainsString('press Sync on the service first', $error->getMessage());
        $this->assertStringNotContainsString('running this again', $error->getMessage());
    }

    public function testAConflictExplainsHowIsphooksKnowsTheService(): void
    {
        $fake = (new FakeIsphooks())->error(409, 'conflict', 'account shopexamplec9516 belongs to another service');
        $error = $this->fails(fn () => manager($fake)->suspendAccount(account()));
        $this->assertStringContainsString('isphooks knows this service as fb-f621a3303eb07dfa7e9e (from the client&apos;s'
            . ' e-mail and the domain): if the client&apos;s e-mail changed', $error->getMessage());
        $fake = (new FakeIsphooks())->error(409, 'conflict', 'account shopexamplec9516 is suspended; unsuspend it first');
        $error = $this->fails(fn () => manager($fake)->getLoginUrl(account()));
        $this->assertSame('isphooks conflict: account shopexamplec9516 is suspended; unsuspend it first', $error->getMessage());
        $fake = (new FakeIsphooks())->error(409, 'unowned_account', 'no marker');
        $error = $this->fails(fn () => manager($fake)->cancelAccount(account()));
        $this->assertStringContainsString('adopt it once with reconcile and adopt_unmarked', $error->getMessage());
    }

    public function testNoSecretPasswordOrLoginUrlReachesAMessageOrTheLog(): void
    {
        $logger = new ArrayLogger();
        $fake = (new FakeIsphooks())
            ->error(401, 'unauthenticated', 'signature ' . SECRET . ' / ' . substr(SECRET, 6) . ' rejected');
        $manager = manager($fake, [], $logger);
        $error = $this->fails(fn () => $manager->testConnection());
        $this->assertStringNotContainsString(substr(SECRET, 6), $error->getMessage());
        $manager->createAccount(account(['password' => 'Fresh-Pass-123']));
        $manager->changeAccountPassword(account(), 'New-Pass-456');
        $url = $manager->getLoginUrl(account());
        $log = $logger->text();
        foreach ([substr(SECRET, 6), 'Fresh-Pass-123', 'New-Pass-456', $url, 'k3y'] as $secret) {
            $this->assertStringNotContainsString($secret, $log);
        }
        $this->assertStringContainsString('isphooks create shopexamplec9516 on isp1: HTTP 200 created (webhook-id msg_', $log);
    }

    // -- login URLs, the server, the renames -----------------------------------------------------

    public function testLoginUrlOfNoAccountIsThePanelUrlWithoutARequest(): void
    {
        $fake = new FakeIsphooks();
        $url = 'https://isp1.example.net:1500/';
        $this->assertSame($url, manager($fake, ['config' => ['panel_url' => $url]])->getLoginUrl(null));
        $this->assertSame($url, manager($fake, ['config' => ['panel_url' => " $url "]])->getResellerLoginUrl(null));
        foreach ([null, [], ['userprefix' => 'x', 'tls_verify' => true], ['panel_url' => 'javascript:alert(1)'],
            ['panel_url' => 'https://x" onmouseover="a'], ['panel_url' => 42]] as $config) {
            $this->assertSame('', manager($fake, ['config' => $config])->getLoginUrl(null));
        }
        $this->assertSame([], $fake->sent);
    }

    public function testLoginUrlOfAnAccountIsAOneTimeUrl(): void
    {
        $fake = new FakeIsphooks();
        $manager = manager($fake);
        $this->assertSame('https://isp1.example.net:1500/ispmgr?func=auth&key=k3y', $manager->getLoginUrl(account()));
        $this->assertSame(['sso', 'user', 'user'], [$fake->last()['action'], $fake->last()['body']['kind'],
            $fake->last()['body']['as']]);
        $manager->getResellerLoginUrl(account(['reseller' => true]));
        $this->assertSame(['reseller', 'user'], [$fake->last()['body']['kind'], $fake->last()['body']['as']]);
        $manager->getLoginUrl(account(['reseller' => true]));
        $this->assertSame('reseller', $fake->last()['body']['kind']);

        $fake = (new FakeIsphooks())->error(409, 'conflict', 'account shopexamplec9516 is suspended');
        $error = $this->fails(fn () => manager($fake)->getLoginUrl(account()));
        $this->assertStringStartsWith('isphooks conflict: account shopexamplec9516 is suspended', $error->getMessage());
        $fake = (new FakeIsphooks())->answer(200, ['action' => 'sso', 'status' => 'ok', 'url' => 'javascript:alert(1)']);
        $this->assertStringStartsWith('isphooks bad_response', $this->fails(fn () => manager($fake)->getLoginUrl(account()))->getMessage());
    }

    public function testTestConnection(): void
    {
        $fake = new FakeIsphooks();
        $this->assertTrue(manager($fake)->testConnection());
        $body = $fake->last()['body'];
        $this->assertSame(['check', 'isp1'], [$fake->last()['action'], $body['server']]);

        $fake = (new FakeIsphooks())->answer(200, ['action' => 'check', 'status' => 'failed', 'servers' => [
            ['server' => 'isp1', 'ok' => false, 'error' => 'login root has reseller rights (level 24) <b>']]]);
        $this->assertSame('isphooks check of isp1 failed: login root has reseller rights (level 24) &lt;b&gt;',
            $this->fails(fn () => manager($fake)->testConnection())->getMessage());
        $fake = (new FakeIsphooks())->error(404, 'unknown_server', 'no server isp1 in the configuration');
        $this->assertStringStartsWith('isphooks unknown_server: no server isp1',
            $this->fails(fn () => manager($fake)->testConnection())->getMessage());
    }

    public function testSynchronizeFillsStateAndPackageFromStatus(): void
    {
        $fake = (new FakeIsphooks())->answer(200, ['action' => 'status', 'status' => 'ok', 'server' => 'isp1',
            'service_id' => 'fb-f621a3303eb07dfa7e9e', 'username' => 'shopexamplec9516', 'kind' => 'user', 'exists' => true,
            'ours' => true, 'marker' => 'fb-f621a3303eb07dfa7e9e', 'active' => false, 'template' => 'pro']);
        $account = account();
        $synced = manager($fake)->synchronizeAccount($account);
        $this->assertNotSame($account, $synced);
        $this->assertSame([true, 'pro', 'shopexamplec9516', '203.0.113.10'],
            [$synced->getSuspended(), $synced->getPackage()->getName(), $synced->getUsername(), $synced->getIp()]);
        $this->assertSame('Basic', $account->getPackage()->getName()); // the input is left as it was
        $this->assertNull($account->getSuspended());
        $this->assertSame('status', $fake->last()['action']);

        $fake = (new FakeIsphooks())->answer(200, ['action' => 'status', 'status' => 'ok', 'exists' => false]);
        $error = $this->fails(fn () => manager($fake)->synchronizeAccount(account()));
        $this->assertStringContainsString('there is no account shopexamplec9516 on isp1 (this service is'
            . ' fb-f621a3303eb07dfa7e9e in isphooks)', $error->getMessage());
        $this->assertSame(404, $error->getCode());
        $fake = (new FakeIsphooks())->answer(200, ['action' => 'status', 'status' => 'ok', 'exists' => true,
            'ours' => false, 'marker' => 'fb-00000000000000000000', 'active' => true]);
        $error = $this->fails(fn () => manager($fake)->synchronizeAccount(account()));
        $this->assertStringContainsString('it carries the marker of service fb-00000000000000000000, and this service is'
            . ' fb-f621a3303eb07dfa7e9e', $error->getMessage());
    }

    public function testRenamesAreRefusedWithoutARequest(): void
    {
        $fake = new FakeIsphooks();
        $manager = manager($fake);
        foreach (['changeAccountUsername' => 'newname', 'changeAccountDomain' => 'new.example.com',
            'changeAccountIp' => '203.0.113.99'] as $method => $value) {
            $error = $this->fails(fn () => $manager->$method(account(), $value));
            $this->assertStringStartsWith('isphooks: isphooks never ', $error->getMessage());
            $this->assertStringEndsWith('Nothing was changed.', $error->getMessage());
        }
        $this->assertSame([], $fake->sent);
    }

    public function testAnAccountWithoutWhatIsphooksNeedsIsASettingError(): void
    {
        $fake = new FakeIsphooks();
        $error = $this->fails(fn () => manager($fake)->suspendAccount(account(['email' => ''])));
        $this->assertStringStartsWith('isphooks setting: the account has no client e-mail', $error->getMessage());
        $error = $this->fails(fn () => manager($fake)->suspendAccount(account(['username' => ' '])));
        $this->assertSame('isphooks setting: the service has no username', $error->getMessage());
        $error = $this->fails(fn () => manager($fake)->createAccount((new Server_Account())
            ->setClient((new Server_Client())->setEmail('a@example.com'))->setUsername('u1')->setDomain('a.example')));
        $this->assertSame('isphooks setting: the account has no hosting plan', $error->getMessage());
        $this->assertSame([], $fake->sent);
    }

    public function testPasswordLengthStaysWithinWhatIsphooksTakes(): void
    {
        $this->assertSame(10, manager()->getPasswordLength());
        $this->assertSame(8, manager(null, ['passwordLength' => 4])->getPasswordLength());
        $this->assertSame(40, manager(null, ['passwordLength' => 40])->getPasswordLength());
        $this->assertSame(128, manager(null, ['passwordLength' => 500])->getPasswordLength());
    }

    public function testTheSameSignerAsTheClientUsesItsKey(): void
    {
        $this->assertSame(base64_decode(substr(SECRET, 6), true), Client::key(SECRET));
    }
}
