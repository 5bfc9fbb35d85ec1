<?php
declare(strict_types=1);

use IsphooksWhmcs\Exchange;
use IsphooksWhmcs\Module;
use IsphooksWhmcs\Retries;
use PHPUnit\Framework\TestCase;

/** The AfterCronJob retries on the stand-in's database, with isphooks answering in-process. */
final class RetriesTest extends TestCase
{
    private const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    private int $sent = 0;

    protected function setUp(): void
    {
        WhmcsStandIn::reset();
        $this->sent = 0;
        Module::user()->transport = function (Exchange $exchange): void {
            $this->sent++;
            $exchange->status = 200;
            $exchange->raw = json_encode(['action' => $exchange->action, 'status' => 'updated']);
        };
        WhmcsStandIn::load([
            'tblservers' => [['id' => 7, 'username' => 'isp1', 'password' => self::SECRET,
                'accesshash' => 'https://hooks.example.net/{action}']],
            'tblproducts' => [['id' => 1, 'servertype' => 'isphooks', 'type' => 'hostingaccount',
                'configoption1' => 'basic']],
            'tblclients' => [['id' => 3, 'email' => 'a@example.com']],
            'tblhosting' => [], 'tblmodulequeue' => [], 'tblactivitylog' => [],
            'tblinvoices' => [], 'tblinvoiceitems' => [],
        ]);
    }

    protected function tearDown(): void
    {
        Module::user()->transport = null;
    }

    private function service(int $id, string $status, string $action, int $agoS, int $retries = 0): void
    {
        WhmcsStandIn::$db['tblhosting'][] = ['id' => $id, 'userid' => 3, 'packageid' => 1, 'server' => 7,
            'username' => 'u' . $id, 'password' => 'Pass-' . $id . '-word', 'domainstatus' => $status];
        $at = date('Y-m-d H:i:s', time() - $agoS);
        WhmcsStandIn::$db['tblmodulequeue'][] = ['id' => $id, 'service_type' => 'service', 'service_id' => $id,
            'module_name' => 'isphooks', 'module_action' => $action, 'last_attempt' => $at,
            'last_attempt_error' => 'x', 'num_retries' => $retries, 'completed' => 0, 'created_at' => $at];
    }

    public function testAtMostTwentyRowsPerCronRun(): void
    {
        for ($id = 1; $id <= 25; $id++) {
            $this->service($id, 'Active', 'ChangePackage', 600);
        }
        Retries::run(time());
        $this->assertCount(20, WhmcsStandIn::$moduleCalls);
        $this->assertSame(20, $this->sent);
        $left = array_filter(WhmcsStandIn::$db['tblmodulequeue'], fn (array $r): bool => !$r['completed']);
        $this->assertCount(5, $left);
        Retries::run(time());
        $this->assertCount(25, WhmcsStandIn::$moduleCalls);
    }

    public function testTheScheduleDoublesFromFiveMinutesUpToSixHours(): void
    {
        $last = '2026-12-01 10:00:00';
        $at = strtotime($last);
        foreach ([0 => 300, 1 => 600, 2 => 1200, 5 => 9600, 6 => 19200, 7 => 21600, 30 => 21600] as $retries => $delay) {
            $row = (object) ['last_attempt' => $last, 'created_at' => $last, 'num_retries' => $retries];
            $this->assertSame($at + $delay, Retries::nextTry($row), "num_retries $retries");
        }
    }

    public function testTheGuardsSayWhyWhmcsNoLongerWantsIt(): void
    {
        WhmcsStandIn::$db['tblinvoices'] = [['id' => 1, 'userid' => 3, 'status' => 'Unpaid', 'duedate' => date('Y-m-d', time() - 86400)]];
        WhmcsStandIn::$db['tblinvoiceitems'] = [['id' => 1, 'invoiceid' => 1, 'type' => 'Hosting', 'relid' => 9]];
        $overdue = ['id' => 9, 'clientid' => 3];
        $paid = ['id' => 8, 'clientid' => 3];
        $this->assertNull(Retries::unwanted('CreateAccount', ['status' => 'Pending'] + $paid));
        $this->assertSame('the service is Active, no longer Pending', Retries::unwanted('CreateAccount', ['status' => 'Active'] + $paid));
        $this->assertNull(Retries::unwanted('SuspendAccount', ['status' => 'Active'] + $overdue));
        $this->assertStringContainsString('paid in between', (string) Retries::unwanted('SuspendAccount', ['status' => 'Active'] + $paid));
        $this->assertSame('the service is Suspended, no longer Active', Retries::unwanted('SuspendAccount', ['status' => 'Suspended'] + $overdue));
        $this->assertNull(Retries::unwanted('UnsuspendAccount', ['status' => 'Suspended'] + $paid));
        $this->assertSame('an invoice of the service is overdue again', Retries::unwanted('UnsuspendAccount', ['status' => 'Suspended'] + $overdue));
        $this->assertSame('the service is Active, no longer Suspended', Retries::unwanted('UnsuspendAccount', ['status' => 'Active'] + $paid));
        foreach (['ChangePackage', 'ChangePassword'] as $action) {
            $this->assertNull(Retries::unwanted($action, ['status' => 'Suspended'] + $paid));
            $this->assertSame('the service is Cancelled', Retries::unwanted($action, ['status' => 'Cancelled'] + $paid));
            $this->assertSame('the service is Terminated', Retries::unwanted($action, ['status' => 'Terminated'] + $paid));
        }
    }

    public function testAnUnreadableQueueOrServiceNeverBreaksTheCron(): void
    {
        $this->service(1, 'Active', 'ChangePackage', 600);
        WhmcsStandIn::$localApiAnswers['GetClientsProducts'] = ['result' => 'error', 'message' => '<b>db</b> down'];
        Retries::afterCron();
        $this->assertSame(0, $this->sent);
        $log = array_column(WhmcsStandIn::$db['tblactivitylog'], 'description');
        $this->assertCount(1, $log);
        $this->assertStringContainsString('not retried now: cannot tell whether WHMCS still wants it', $log[0]);
        $this->assertStringContainsString('&lt;b&gt;db&lt;/b&gt;', $log[0]);
        WhmcsStandIn::$broken['tblmodulequeue'] = 'SQLSTATE[42S02]';
        Retries::afterCron(); // logged, never thrown
        $this->assertStringContainsString('automatic retries stopped', end(WhmcsStandIn::$db['tblactivitylog'])['description']);
    }

    public function testAnUnwantedRowIsResolvedOnlyOnceThePanelMatchesWhmcs(): void
    {
        $this->service(1, 'Suspended', 'SuspendAccount', 600); // suspended meanwhile by an admin
        WhmcsStandIn::$localApiAnswers['ModuleCustom'] = ['result' => 'error', 'message' => 'isphooks panel_unavailable'];
        Retries::run(time());
        $row = WhmcsStandIn::$db['tblmodulequeue'][0];
        $this->assertSame(0, $row['completed']);
        $this->assertSame(1, $row['num_retries']);
        $this->assertSame('Repair to WHMCS state: isphooks panel_unavailable', $row['last_attempt_error']);
        $this->assertSame(['command' => 'ModuleCustom', 'values' => ['serviceid' => 1, 'func_name' => 'RepairAccount']],
            array_values(array_filter(WhmcsStandIn::$localApi, fn (array $c): bool => $c['command'] === 'ModuleCustom'))[0]);
        unset(WhmcsStandIn::$localApiAnswers['ModuleCustom']);
        Retries::run(time() + 601);
        $this->assertSame(1, WhmcsStandIn::$db['tblmodulequeue'][0]['completed']);
        $this->assertSame(1, $this->sent); // the one-service reconcile, no suspend
        $this->assertStringContainsString('not retried, and resolved: the service is Suspended, no longer Active;'
            . ' the panel already matched WHMCS (account suspended)', end(WhmcsStandIn::$db['tblactivitylog'])['description']);
    }
}
