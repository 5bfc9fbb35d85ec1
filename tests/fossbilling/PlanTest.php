<?php
/** A FOSSBilling hosting plan (Server_Package) → isphooks' `plan`. */

declare(strict_types=1);

use IsphooksFossbilling\Plan;
use IsphooksFossbilling\SettingError;
use PHPUnit\Framework\TestCase;

use function FossbillingTest\package;

final class PlanTest extends TestCase
{
    public function testEveryPlanFieldMapsToItsLimit(): void
    {
        $plan = Plan::fromPackage(package([
            'setName' => 'Basic Hosting', 'setQuota' => '2048', 'setBandwidth' => '40960', 'setMaxDomains' => '4',
            'setMaxSubdomains' => '99', 'setMaxParkedDomains' => '98', 'setMaxFtp' => '3', 'setMaxSql' => '10',
            'setMaxPop' => '50',
        ], ['template' => 'basic']));
        $this->assertSame(['template' => 'basic', 'limits' => [
            'databases' => 10, 'disk_mib' => 2048, 'ftp_users' => 3, 'mail_domains' => 5, 'mailboxes' => 50,
            'traffic_mib' => 40960, 'web_domains' => 5,
        ]], $plan);
    }

    public function testTheTemplateIsTheParameterElseThePlanName(): void
    {
        $this->assertSame(['template' => 'pro'], Plan::fromPackage(package(['setName' => 'Pro Plan'], ['template' => ' pro '])));
        $this->assertSame(['template' => 'Pro Plan'], Plan::fromPackage(package(['setName' => 'Pro Plan'])));
        $this->assertSame(['template' => 'Pro Plan'], Plan::fromPackage(package(['setName' => 'Pro Plan'], ['template' => ''])));
        $this->expectException(SettingError::class);
        Plan::fromPackage(package(['setName' => ' ']));
    }

    /** getCustomValues() does not exist on FOSSBilling's Server_Package (its __call answers ''). */
    public function testOnlyGetCustomValueIsRead(): void
    {
        $package = package(['setName' => 'x'], ['template' => 'basic', 'disk_mib' => '5']);
        $this->assertSame('', $package->getCustomValues());
        $this->assertSame(['template' => 'basic'], Plan::fromPackage($package));
    }

    public function testEmptyAndUnlimitedAreLeftToTheTemplate(): void
    {
        $plan = Plan::fromPackage(package([
            'setName' => 'basic', 'setQuota' => '', 'setBandwidth' => 'unlimited', 'setMaxDomains' => 'Unlimited',
            'setMaxFtp' => null, 'setMaxSql' => ' UNLIMITED ', 'setMaxPop' => '0',
        ]));
        $this->assertSame(['template' => 'basic', 'limits' => ['mailboxes' => 0]], $plan);
    }

    public function testTheAddonDomainLimitCountsTheMainDomainToo(): void
    {
        $plan = Plan::fromPackage(package(['setName' => 'basic', 'setMaxDomains' => '0']));
        $this->assertSame(['mail_domains' => 1, 'web_domains' => 1], $plan['limits']);
    }

    /** getMaxQuota() is the disk quota again (FOSSBilling's alias), never a mailbox quota. */
    public function testMaxQuotaIsTheDiskQuota(): void
    {
        $package = package(['setName' => 'basic']);
        $package->setMaxQuota('777');
        $this->assertSame('777', $package->getQuota());
        $this->assertSame(['template' => 'basic', 'limits' => ['disk_mib' => 777]], Plan::fromPackage($package));
    }

    public function testSizesTakeAUnit(): void
    {
        $plan = Plan::fromPackage(package(['setName' => 'b', 'setQuota' => '2G', 'setBandwidth' => '1 TiB']));
        $this->assertSame(['disk_mib' => 2048, 'traffic_mib' => 1048576], $plan['limits']);
    }

    public function testFossbillingsDefaultPlanFits(): void
    {
        // a new FOSSBilling plan: 1048576 MB of disk and bandwidth, 1 of everything
        $plan = Plan::fromPackage(package(['setName' => 'New plan', 'setQuota' => '1048576', 'setBandwidth' => '1048576',
            'setMaxDomains' => '1', 'setMaxFtp' => '1', 'setMaxSql' => '1', 'setMaxPop' => '1']));
        $this->assertSame(1048576, $plan['limits']['disk_mib']);
        $this->assertSame(2, $plan['limits']['web_domains']);
    }

    public function testAValueIsphooksCannotTakeNamesTheField(): void
    {
        $cases = [
            ['setQuota', '2 bananas', '"Disk Quota"'],
            ['setBandwidth', '-1', '"Bandwidth"'],
            ['setMaxDomains', '2147483647', '"Maximum Addon Domains" is too large'],
            ['setMaxDomains', '1.5', '"Maximum Addon Domains"'],
            ['setMaxFtp', 'many', '"Maximum FTP Accounts"'],
            ['setMaxSql', '-1', '"Maximum Databases"'],
            ['setMaxPop', '99999999999', '"Maximum Email Accounts"'],
            ['setQuota', '3000000T', '"Disk Quota" is too large'],
        ];
        foreach ($cases as [$setter, $value, $named]) {
            try {
                Plan::fromPackage(package(['setName' => 'basic', $setter => $value]));
                $this->fail($setter . ' ' . $value . ' was accepted');
            } catch (SettingError $error) {
                $this->assertStringContainsString($named, $error->getMessage());
            }
        }
    }

    /** A plan's config JSON edited by hand to hold a number: getCustomValue() cannot return it. */
    public function testATemplateParameterThatIsNoTextIsASettingError(): void
    {
        $this->expectException(SettingError::class);
        $this->expectExceptionMessage('"template" must be text');
        Plan::fromPackage(package(['setName' => 'basic'], ['template' => 42]));
    }
}
