<?php
declare(strict_types=1);

use IsphooksWhmcs\Exchange;
use IsphooksWhmcs\Module;
use PHPUnit\Framework\TestCase;

final class ModuleTest extends TestCase
{
    private const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    /** @var list<array{action: string, body: array}> */
    private array $sent = [];
    /** @var list<array{0: int, 1: array|string}> answers to give, in order */
    private array $answers = [];

    protected function setUp(): void
    {
        WhmcsStandIn::reset();
        $this->sent = [];
        $transport = function (Exchange $exchange): void {
            $this->sent[] = ['action' => $exchange->action, 'body' => json_decode($exchange->body, true)];
            [$status, $answer] = array_shift($this->answers) ?? [200, ['status' => 'ok']];
            $exchange->status = $status;
            $exchange->raw = is_string($answer) ? $answer : json_encode($answer);
        };
        Module::user()->transport = $transport;
        Module::reseller()->transport = $transport;
    }

    protected function tearDown(): void
    {
        Module::user()->transport = null;
        Module::reseller()->transport = null;
    }

    private static function params(array $extra = []): array
    {
        $options = ['basic', '', '', '', '', '', '', '', '', '', '', '', '', 'shared', ''];
        $params = ['serverid' => 3, 'serverusername' => 'isp1', 'serverpassword' => self::SECRET,
            'serveraccesshash' => 'https://hooks.example.net/{action}', 'serviceid' => 42, 'username' => 'bob',
            'status' => 'Active',
            'password' => 'Pa"ss/wörd\\1', 'domain' => 'Shop.Example.COM',
            'clientsdetails' => ['email' => 'owner@example.com'], 'configoptions' => ['IP' => '1']];
        foreach ($options as $i => $value) {
            $params['configoption' . ($i + 1)] = $value;
        }
        return array_replace($params, $extra);
    }

    private function logText(): string
    {
        return json_encode(WhmcsStandIn::$moduleLog, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    }

    public function testMetaData(): void
    {
        $meta = isphooks_MetaData();
        $this->assertSame('1.1', $meta['APIVersion']);
        $this->assertTrue($meta['RequiresServer']);
        $this->assertSame('username', $meta['ListAccountsUniqueIdentifierField']);
        $this->assertSame('configoption1', $meta['ListAccountsProductField']);
        $this->assertNotSame($meta['DisplayName'], isphooks_reseller_MetaData()['DisplayName']);
    }

    public function testCreateBodyAndMaskingInTheModuleLog(): void
    {
        $this->answers[] = [201, ['action' => 'create', 'status' => 'created', 'username' => 'bob']];
        $this->assertSame('success', isphooks_CreateAccount(self::params()));
        $body = $this->sent[0]['body'];
        $this->assertSame(['service_id' => '42', 'server' => 'isp1', 'kind' => 'user', 'username' => 'bob',
            'password' => 'Pa"ss/wörd\\1', 'domain' => 'Shop.Example.COM', // as stored: isphooks normalises
            'email' => 'owner@example.com',
            'plan' => ['template' => 'basic', 'main_ip' => 'shared'], 'ips' => ['ipv4' => 1, 'ipv6' => 0],
            'event_time' => $body['event_time']], $body);
        $this->assertSame([], WhmcsStandIn::$localApi); // the username did not change

        [$entry] = WhmcsStandIn::$moduleLog;
        $this->assertSame(['isphooks', 'create'], [$entry['module'], $entry['action']]);
        $this->assertStringContainsString('POST https://hooks.example.net/create', $entry['request']);
        $this->assertStringContainsString(WhmcsStandIn::SCRUBBED, $entry['request']);
        $text = $this->logText();
        foreach (['Pa"ss/wörd\\1', 'Pa\\"ss\\/w', 'ss/w', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] as $secret) {
            $this->assertStringNotContainsString($secret, $text);
        }
        $vars = WhmcsStandIn::$replaceVars[0];
        $this->assertContains(self::SECRET, $vars);
        $this->assertContains('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', $vars);
        $this->assertContains('Pa"ss/wörd\\1', $vars);
    }

    public function testTemplateUsernameAndGeneratedPasswordAreWrittenBack(): void
    {
        $params = self::params(['configoption15' => 'u@ID@', 'password' => '', 'configoptions' => []]);
        $this->answers[] = [201, ['status' => 'created', 'username' => 'u42', 'password' => 'Generated-Secret-99']];
        $this->assertSame('success', isphooks_CreateAccount($params));
        $body = $this->sent[0]['body'];
        $this->assertArrayNotHasKey('username', $body);
        $this->assertArrayNotHasKey('password', $body);
        $this->assertArrayNotHasKey('ips', $body);
        $this->assertSame('u{service_id}', $body['plan']['username_template']);
        $this->assertSame([['command' => 'UpdateClientProduct', 'values' => ['serviceid' => 42,
            'serviceusername' => 'u42', 'servicepassword' => 'Generated-Secret-99']]], WhmcsStandIn::$localApi);
        $this->assertStringNotContainsString('Generated-Secret-99', $this->logText());
    }

    public function testWriteBackFailureIsReportedAsRetryable(): void
    {
        WhmcsStandIn::$localApiAnswers['UpdateClientProduct'] = ['result' => 'error', 'message' => 'db locked'];
        $this->answers[] = [201, ['status' => 'created', 'username' => 'u42']];
        $result = isphooks_CreateAccount(self::params(['configoption15' => 'u{service_id}']));
        $this->assertStringContainsString('WHMCS did not store', $result);
        $this->assertStringContainsString('safe to retry', $result);
    }

    public function testSsoUrlAndKeyNeverReachTheLog(): void
    {
        $url = 'https://isp1.example.net:1500/ispmgr?func=auth&username=bob&key=SsoKey0123456789abcdef';
        $this->answers[] = [200, ['status' => 'ok', 'url' => $url, 'expires_in' => 3600]];
        $this->assertSame(['success' => true, 'redirectTo' => $url], isphooks_ServiceSingleSignOn(self::params()));
        $this->assertSame(['service_id' => '42', 'server' => 'isp1', 'username' => 'bob', 'kind' => 'user',
            'as' => 'user'], array_diff_key($this->sent[0]['body'], ['event_time' => 1]));
        $text = $this->logText();
        $this->assertStringNotContainsString('SsoKey0123456789abcdef', $text);
        $this->assertStringNotContainsString('ispmgr?func=auth', $text);
    }

    public function testAdminSsoFailureIsAnErrorMsg(): void
    {
        $this->answers[] = [503, ['error' => ['code' => 'panel_unavailable', 'message' => 'down', 'retryable' => true]]];
        $result = isphooks_AdminSingleSignOn(self::params());
        $this->assertFalse($result['success']);
        $this->assertStringStartsWith('isphooks panel_unavailable: down (safe to retry', $result['errorMsg']);
        $this->assertSame(['server' => 'isp1', 'as' => 'admin'], array_diff_key($this->sent[0]['body'], ['event_time' => 1]));
    }

    public function testOnlyTheAdminButtonAdopts(): void
    {
        $this->answers[] = [200, ['status' => 'ok', 'url' => 'https://p/ispmgr?key=KeyToDiscard0000001']];
        $this->assertSame('success', isphooks_AdoptAccount(self::params()));
        $this->assertSame(['sso', true, 'user'], [$this->sent[0]['action'], $this->sent[0]['body']['adopt'],
            $this->sent[0]['body']['as']]);
        $this->assertSame(['Check' => 'CheckAccount', 'Repair to WHMCS state' => 'RepairAccount',
            'Adopt existing account' => 'AdoptAccount'], isphooks_AdminCustomButtonArray());
        isphooks_ServiceSingleSignOn(self::params());
        isphooks_ChangePassword(self::params());
        foreach (array_slice($this->sent, 1) as $request) {
            $this->assertArrayNotHasKey('adopt', $request['body'], $request['action']);
        }
        $this->assertStringNotContainsString('KeyToDiscard0000001', $this->logText());
    }

    public function testUnownedAccountErrorPointsToTheButton(): void
    {
        $this->answers[] = [409, ['error' => ['code' => 'unowned_account', 'message' => 'bob has no marker',
            'retryable' => false]]];
        $result = isphooks_ChangePassword(self::params());
        $this->assertStringStartsWith('isphooks unowned_account: bob has no marker', $result);
        $this->assertStringContainsString('&quot;Adopt existing account&quot; button', $result);
    }

    public function testSuspendReasonIsOneLineOfUtf8(): void
    {
        isphooks_SuspendAccount(self::params(['suspendreason' => "Overdue\non payment – " . str_repeat('x', 300)]));
        $reason = $this->sent[0]['body']['reason'];
        $this->assertSame(200, preg_match_all('/./us', $reason));  // code points, not bytes
        $this->assertStringStartsWith('Overdue on payment – x', $reason);
        isphooks_SuspendAccount(self::params(['suspendreason' => '']));
        $this->assertArrayNotHasKey('reason', $this->sent[1]['body']);
    }

    public function testSuspendReasonKeepsCyrillicAndStripsOnlyWhatIsphooksRefuses(): void
    {
        isphooks_SuspendAccount(self::params(['suspendreason' => 'Неоплата счёта №42']));
        $this->assertSame('Неоплата счёта №42', $this->sent[0]['body']['reason']);
        // a tab and a line separator become a space; C0/C1 controls, bidi overrides and other
        // format characters go; the joiner that Persian needs stays
        isphooks_SuspendAccount(self::params(['suspendreason' =>
            "a\tb\u{2028}c\x01\u{0085}d\u{202E}e\u{2066}f\u{200B}g\u{200C}h"]));
        $this->assertSame("a b c defg\u{200C}h", $this->sent[1]['body']['reason']);
        isphooks_SuspendAccount(self::params(['suspendreason' => "\xffbad"]));  // invalid UTF-8
        $this->assertSame("\u{FFFD}bad", $this->sent[2]['body']['reason']);
    }

    public function testChangePackageTakesUpdatedAndUnchangedAsSuccess(): void
    {
        // isphooks answers `unchanged` when the plan already held (v1.3), `updated` else
        foreach (['updated', 'unchanged'] as $status) {
            $this->answers[] = [200, ['action' => 'upgrade', 'status' => $status, 'changed' => []]];
            $this->assertSame('success', isphooks_ChangePackage(self::params()), $status);
        }
    }

    public function testResellerModuleSendsKindAndItsLimits(): void
    {
        $params = self::params(['configoption16' => '7']);
        isphooks_reseller_ChangePackage($params);
        $body = $this->sent[0]['body'];
        $this->assertSame(['reseller', 'upgrade'], [$body['kind'], $this->sent[0]['action']]);
        $this->assertSame(['limits' => ['users' => 7], 'template' => 'basic'], $body['plan']);
    }

    public function testSettingErrorsAreLoggedAndNothingIsSent(): void
    {
        $result = isphooks_CreateAccount(self::params(['configoption1' => '']));
        $this->assertSame('isphooks setting: the product setting &quot;Package Name&quot; (the ISPmanager template) is empty', $result);
        $result = isphooks_SuspendAccount(self::params(['serverpassword' => 'not-a-secret']));
        $this->assertStringStartsWith('isphooks setting: the server Password must be a whsec_ secret', $result);
        $this->assertSame([], $this->sent);
        $this->assertCount(2, WhmcsStandIn::$moduleLog);
        $this->assertStringNotContainsString('not-a-secret', $this->logText());
    }

    public function testUsageUpdateMatchesByTheMarkerOnly(): void
    {
        $this->answers[] = [200, ['status' => 'ok', 'servers' => [['server' => 'isp1', 'error' => null, 'accounts' => [
            ['username' => 'u42', 'kind' => 'user', 'service_id' => '42', 'disk_used_mib' => 10,
                'disk_limit_mib' => 100, 'traffic_used_mib' => null, 'traffic_limit_mib' => null, 'suspended' => false],
            ['username' => 'legacy', 'kind' => 'user', 'service_id' => null, 'disk_used_mib' => 5,
                'disk_limit_mib' => null, 'traffic_used_mib' => 7, 'traffic_limit_mib' => 70, 'suspended' => true],
            ['username' => 'res1', 'kind' => 'reseller', 'service_id' => '43', 'disk_used_mib' => 1,
                'disk_limit_mib' => 1, 'traffic_used_mib' => 1, 'traffic_limit_mib' => 1, 'suspended' => false],
        ]]]]];
        WhmcsStandIn::$db['tblhosting'] = [['id' => 42, 'server' => 3, 'username' => 'u42'],
            ['id' => 44, 'server' => 3, 'username' => 'legacy'], ['id' => 45, 'server' => 9, 'username' => 'legacy']];
        $this->assertSame('success', isphooks_UsageUpdate(self::params()));
        // the object counts too, for the client area (v1.2)
        $this->assertSame(['server' => 'isp1', 'counts' => true], array_diff_key($this->sent[0]['body'], ['event_time' => 1]));
        $updates = array_values(array_filter(WhmcsStandIn::$updates, fn (array $u): bool => $u['table'] === 'tblhosting'));
        $this->assertCount(1, $updates); // legacy: no marker, so no service's usage
        $this->assertSame(['id' => 42], $updates[0]['where']);
        $this->assertSame(['diskusage' => 10, 'disklimit' => 100, 'bwusage' => 0, 'bwlimit' => 0,
            'lastupdate' => 'RAW:now()'], $updates[0]['values']);
        $this->assertSame([42], array_column(WhmcsStandIn::$db['mod_isphooks_usage'], 'service_id'));
    }

    public function testListAccountsStatusFromWhmcsConstants(): void
    {
        $this->answers[] = [200, ['servers' => [['server' => 'isp1', 'error' => null, 'accounts' => [
            ['username' => 'a1', 'kind' => 'user', 'suspended' => true],
            ['username' => 'a2', 'kind' => 'user', 'suspended' => false]]]]]];
        $result = isphooks_ListAccounts(self::params());
        $this->assertTrue($result['success']);
        $this->assertSame([['a1', 'Suspended'], ['a2', 'Active']],
            array_map(fn (array $a): array => [$a['uniqueIdentifier'], $a['status']], $result['accounts']));
        $this->answers[] = [200, ['servers' => [['server' => 'isp1', 'error' => 'panel isp1 timed out', 'accounts' => []]]]];
        $result = isphooks_ListAccounts(self::params());
        $this->assertFalse($result['success']);
        $this->assertStringContainsString('panel isp1 timed out', $result['error']);
    }

    // -- v1.2: escaped output, the decision time of a retry ---------------------------------

    private const XSS = '<img src=x onerror=alert(1)>';

    public function testAPanelMessageIsEscapedOnEveryPage(): void
    {
        $this->answers[] = [502, ['error' => ['code' => 'panel_error', 'message' => 'panel said ' . self::XSS,
            'retryable' => true]]];
        $result = isphooks_SuspendAccount(self::params());
        $this->assertStringNotContainsString('<img', $result);
        $this->assertStringContainsString('&lt;img src=x onerror=alert(1)&gt;', $result);
        $this->answers[] = [200, ['servers' => [['server' => 'isp1', 'ok' => false, 'edition' => 'lite',
            'error' => 'panel said ' . self::XSS]]]];
        $check = isphooks_TestConnection(self::params());
        $this->assertFalse($check['success']);
        $this->assertStringNotContainsString('<img', $check['error']);
        $this->assertStringContainsString('&lt;img', $check['error']);
        $this->answers[] = [503, ['error' => ['code' => 'panel_unavailable', 'message' => self::XSS,
            'retryable' => true]]];
        $sso = isphooks_ServiceSingleSignOn(self::params());
        $this->assertStringNotContainsString('<img', $sso['errorMsg']);
        $this->answers[] = [200, ['servers' => [['server' => 'isp1', 'error' => null, 'accounts' => [
            ['username' => self::XSS, 'kind' => 'user', 'suspended' => false, 'template' => self::XSS]]]]]];
        $accounts = isphooks_ListAccounts(self::params())['accounts'];
        foreach (['username', 'uniqueIdentifier', 'product'] as $key) {
            $this->assertStringNotContainsString('<img', $accounts[0][$key], $key);
        }
    }

    private static function queueRow(string $action, string $created, int $completed = 0): array
    {
        return ['id' => 1, 'service_type' => 'service', 'service_id' => 42, 'module_name' => 'isphooks',
            'module_action' => $action, 'last_attempt' => $created, 'last_attempt_error' => 'x',
            'num_retries' => 3, 'completed' => $completed, 'created_at' => $created, 'updated_at' => $created];
    }

    public function testOnlyTheRetryOfARowIsBackDated(): void
    {
        $created = date('Y-m-d H:i:s', time() - 3 * 86400);
        $row = self::queueRow('SuspendAccount', $created);
        WhmcsStandIn::$db['tblmodulequeue'] = [$row];
        // a new suspend of the same service (the cron's, an admin's button or Retry): now
        $before = (int) floor(microtime(true) * 1000);
        isphooks_SuspendAccount(self::params());
        $this->assertGreaterThanOrEqual($before, $this->sent[0]['body']['event_time']);
        // the hook's retry of that row: the row's time
        $this->sent = [];
        \IsphooksWhmcs\Queue::asRetryOf((object) $row, fn () => isphooks_SuspendAccount(self::params()));
        $this->assertSame(strtotime($created) * 1000 + 999, $this->sent[0]['body']['event_time']);
        // inside it, another action, another module or another service: now
        foreach ([['UnsuspendAccount', 'isphooks', 42], ['SuspendAccount', 'isphooks_reseller', 42],
                     ['SuspendAccount', 'isphooks', 43]] as [$fn, $module, $service]) {
            $this->sent = [];
            $before = (int) floor(microtime(true) * 1000);
            \IsphooksWhmcs\Queue::asRetryOf((object) $row, fn () => ($module . '_' . $fn)(self::params(['serviceid' => $service])));
            $this->assertGreaterThanOrEqual($before, $this->sent[0]['body']['event_time'], "$fn $module $service");
        }
        // and after it: now again
        $this->sent = [];
        $before = (int) floor(microtime(true) * 1000);
        isphooks_SuspendAccount(self::params());
        $this->assertGreaterThanOrEqual($before, $this->sent[0]['body']['event_time']);
    }

    public function testARowDatedInTheFutureIsNow(): void
    {
        $row = self::queueRow('SuspendAccount', date('Y-m-d H:i:s', time() + 7200));
        \IsphooksWhmcs\Queue::asRetryOf((object) $row, fn () => isphooks_SuspendAccount(self::params()));
        $this->assertLessThanOrEqual((int) floor(microtime(true) * 1000), $this->sent[0]['body']['event_time']);
    }

    public function testAFailingLookupNeverFailsTheCall(): void
    {
        foreach ([['broken' => 'SQLSTATE[42S02]: no such table tblmodulequeue'], ['row' => 'not a date'],
                     ['row' => '0000-00-00 00:00:00']] as $case) {
            WhmcsStandIn::reset();
            $this->sent = [];
            $before = (int) floor(microtime(true) * 1000);
            if (isset($case['broken'])) { // no queue read at all
                WhmcsStandIn::$broken['tblmodulequeue'] = $case['broken'];
                $result = isphooks_SuspendAccount(self::params());
            } else { // the retry of a row whose time cannot be read
                $row = (object) self::queueRow('SuspendAccount', $case['row']);
                $result = \IsphooksWhmcs\Queue::asRetryOf($row, fn () => isphooks_SuspendAccount(self::params()));
            }
            $this->assertSame('success', $result);
            $this->assertCount(1, $this->sent);
            $this->assertGreaterThanOrEqual($before, $this->sent[0]['body']['event_time']);
        }
    }
}
