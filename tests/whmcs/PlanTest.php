<?php
declare(strict_types=1);

use IsphooksWhmcs\Plan;
use IsphooksWhmcs\SettingError;
use PHPUnit\Framework\TestCase;

final class PlanTest extends TestCase
{
    private static function options(array $values): array
    {
        $params = [];
        foreach (array_values($values) as $i => $value) {
            $params['configoption' . ($i + 1)] = $value;
        }
        return $params;
    }

    public function testConfigOptionKeysAreTheSeedLabelsInOrder(): void
    {
        $seed = ['Package Name', 'Traffic quota', 'Db user count', 'Web domains count', 'Email box count',
            'Memory limit', 'Email box quota', 'Disk quota', 'Db count', 'FTP user count',
            'Email domains count', 'CPU time', 'Processes count limit', 'Main IP address type',
            'Username template'];
        $this->assertSame($seed, array_keys(isphooks_ConfigOptions()));
        $this->assertSame([...$seed, 'Users count', 'IPv4 addresses count', 'IPv6 addresses count'],
            array_keys(isphooks_reseller_ConfigOptions()));
        $mainIp = isphooks_ConfigOptions()['Main IP address type'];
        $this->assertSame(['dropdown', 'shared,ipv4,ipv6'], [$mainIp['Type'], $mainIp['Options']]);
    }

    public function testEveryLabelMapsToItsField(): void
    {
        $params = self::options(['basic', '10G', '3', '4', '5', '512', '1024M', '2 GiB', '9', '10', '11',
            '120', '13', 'ipv6', '']);
        $this->assertSame([
            'limits' => ['traffic_mib' => 10240, 'database_users' => 3, 'web_domains' => 4, 'mailboxes' => 5,
                'memory_mib' => 512, 'mailbox_quota_mib' => 1024, 'disk_mib' => 2048, 'databases' => 9,
                'ftp_users' => 10, 'mail_domains' => 11, 'cpu_time' => 120, 'processes' => 13],
            'template' => 'basic',
            'main_ip' => 'ipv6',
        ], Plan::fromParams($params, 'user', true));
    }

    public function testEmptyMeansFromTheTemplate(): void
    {
        $params = self::options(['basic', '', '', '', '', '', '', ' ', '', '', '', '', '', 'shared', '']);
        $this->assertSame(['template' => 'basic', 'main_ip' => 'shared'], Plan::fromParams($params, 'user', true));
        // an upgrade carries the template and limits only
        $this->assertSame(['template' => 'basic'], Plan::fromParams($params, 'user', false));
    }

    public function testResellerLimitsComeAfterTheSeedFifteen(): void
    {
        $params = self::options(['res', '', '', '', '', '', '', '', '', '', '', '', '', 'shared', '', '25', '', '4']);
        $plan = Plan::fromParams($params, 'reseller', true);
        $this->assertSame(['users' => 25, 'ipv6_addresses' => 4], $plan['limits']);
        $this->assertArrayNotHasKey('limits', Plan::fromParams($params, 'user', true));
    }

    public function testUsernameTemplateOfTheOldModuleIsTranslated(): void
    {
        $this->assertSame('u{service_id}', Plan::usernameTemplate('u@ID@'));
        $this->assertSame('{domain}', Plan::usernameTemplate(' @DOMAIN@ '));
        $this->assertSame('w{service_id}{domain}', Plan::usernameTemplate('w{service_id}@domain@'));
        $params = self::options(['basic', '', '', '', '', '', '', '', '', '', '', '', '', 'shared', 'c@ID@']);
        $this->assertSame('c{service_id}', Plan::fromParams($params, 'user', true)['username_template']);
    }

    public function testConfigurableOptionsIpAndIpv6(): void
    {
        $this->assertNull(Plan::ips([]));
        $this->assertNull(Plan::ips(['configoptions' => ['IP' => '0', 'IPv6' => '']]));
        $this->assertSame(['ipv4' => 2, 'ipv6' => 0], Plan::ips(['configoptions' => ['IP' => 2]]));
        $this->assertSame(['ipv4' => 0, 'ipv6' => 3], Plan::ips(['configoptions' => ['IPv6' => '3', 'Other' => 'x']]));
    }

    /** @dataProvider badValues */
    public function testBadValuesNameTheSetting(int $position, string $value, string $label): void
    {
        $values = ['basic', '', '', '', '', '', '', '', '', '', '', '', '', 'shared', ''];
        $values[$position - 1] = $value;
        try {
            Plan::fromParams(self::options($values), 'user', true);
            $this->fail('accepted ' . $value);
        } catch (SettingError $error) {
            $this->assertStringContainsString('"' . $label . '"', $error->getMessage());
        }
    }

    public static function badValues(): array
    {
        return [[1, '', 'Package Name'], [8, '2 bananas', 'Disk quota'], [3, '-1', 'Db user count'],
            [13, '1.5', 'Processes count limit'], [14, 'dedicated', 'Main IP address type'],
            [2, '99999999999', 'Traffic quota']];
    }
}
