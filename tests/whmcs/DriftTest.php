<?php
declare(strict_types=1);

use IsphooksWhmcs\Drift;
use IsphooksWhmcs\Exchange;
use IsphooksWhmcs\Module;
use PHPUnit\Framework\TestCase;

/** The DailyCronJob drift report on the stand-in's database, isphooks answering in-process. */
final class DriftTest extends TestCase
{
    private const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    /** @var list<array> bodies sent */
    private array $sent = [];
    /** @var list<array{0: int, 1: array}> */
    private array $answers = [];

    protected function setUp(): void
    {
        WhmcsStandIn::reset();
        $this->sent = $this->answers = [];
        Module::user()->transport = function (Exchange $exchange): void {
            $this->sent[] = json_decode($exchange->body, true);
            [$exchange->status, $answer] = array_shift($this->answers) ?? [200, ['status' => 'ok', 'differences' => []]];
            $exchange->raw = json_encode($answer);
        };
        WhmcsStandIn::load([
            'tblservers' => [['id' => 7, 'type' => 'isphooks', 'username' => 'isp1', 'password' => self::SECRET,
                'accesshash' => 'https://hooks.example.net/{action}', 'disabled' => 0]],
            'tblproducts' => [['id' => 1, 'servertype' => 'isphooks', 'configoption1' => 'basic']],
            'tblhosting' => [
                ['id' => 1, 'userid' => 3, 'packageid' => 1, 'server' => 7, 'username' => 'u1', 'domainstatus' => 'Active'],
                ['id' => 2, 'userid' => 3, 'packageid' => 1, 'server' => 7, 'username' => 'u2', 'domainstatus' => 'Active'],
                ['id' => 3, 'userid' => 4, 'packageid' => 1, 'server' => 7, 'username' => 'Legacy1', 'domainstatus' => 'Suspended'],
            ],
            'tblactivitylog' => [], 'tbltodolist' => [],
        ]);
    }

    protected function tearDown(): void
    {
        Module::user()->transport = null;
    }

    private function log(): array
    {
        return array_column(WhmcsStandIn::$db['tblactivitylog'], 'description');
    }

    public function testARowIsphooksRefusesIsLeftOutAndTheOthersAreCompared(): void
    {
        // what the module's check did not foresee: isphooks names the row it refuses
        $this->answers[] = [400, ['error' => ['code' => 'invalid_request',
            'message' => 'invalid fields: services.1.username', 'retryable' => false]]];
        Drift::daily();
        $this->assertCount(2, $this->sent);
        $this->assertSame(['1', '2'], array_column($this->sent[0]['services'], 'service_id'));
        $this->assertSame(['1'], array_column($this->sent[1]['services'], 'service_id'));
        $this->assertSame([
            'isphooks drift report: server isp1: service #3 (Legacy1) not compared: isphooks refuses its username'
                . ' (lowercase letters, digits, _ . -, at most 32, not starting with a digit, dot or hyphen)',
            'isphooks drift report: server isp1: service #2 (u2) not compared: isphooks refuses its username'
                . ' (invalid_request)',
        ], $this->log());
        $this->assertSame([4, 3], array_column(WhmcsStandIn::$db['tblactivitylog'], 'userid'));
    }

    public function testA400NamingNoRowStillStopsOnlyThisServer(): void
    {
        $this->answers[] = [400, ['error' => ['code' => 'invalid_request', 'message' => 'invalid fields: server',
            'retryable' => false]]];
        Drift::daily();
        $this->assertCount(1, $this->sent);
        $this->assertStringStartsWith('isphooks drift report: server isp1 not compared: isphooks invalid_request',
            end(WhmcsStandIn::$db['tblactivitylog'])['description']);
    }

    public function testRowsRefusedRoundAfterRoundStopAfterThreeReconciles(): void
    {
        WhmcsStandIn::$db['tblhosting'][2]['username'] = 'u3';
        for ($i = 0; $i < 3; $i++) {
            $this->answers[] = [400, ['error' => ['code' => 'invalid_request',
                'message' => 'invalid fields: services.0.template', 'retryable' => false]]];
        }
        Drift::daily();
        $this->assertCount(3, $this->sent);
        $this->assertStringContainsString('server isp1 not compared', end(WhmcsStandIn::$db['tblactivitylog'])['description']);
    }
}
