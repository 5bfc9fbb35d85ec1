<?php
declare(strict_types=1);

use IsphooksWhmcs\ClientArea;
use IsphooksWhmcs\MetricSource;
use IsphooksWhmcs\Plan;
use IsphooksWhmcs\ServerPage;
use IsphooksWhmcs\SettingError;
use PHPUnit\Framework\TestCase;

/** The parts of the v1.2 pages that need no isphooks: option overrides, the app → page map,
 *  the metric values, the server page's rendering, and the stand-in's strict renderer. */
final class PagesTest extends TestCase
{
    private static function product(array $chosen): array
    {
        $values = ['basic', '', '', '4', '', '', '', '1G', '', '', '', '', '', 'shared', ''];
        $params = ['configoptions' => $chosen];
        foreach ($values as $i => $value) {
            $params['configoption' . ($i + 1)] = $value;
        }
        return $params;
    }

    public function testConfigurableOptionsOverrideTheLimitsNamedLikeThem(): void
    {
        $plan = Plan::fromParams(self::product(['disk quota ' => '5G', 'Web domains count' => 9,
            'Package Name' => 'pro', 'Main IP address type' => 'ipv4', 'IP' => '2']), 'user', true);
        $this->assertSame(['limits' => ['web_domains' => 9, 'disk_mib' => 5120], 'template' => 'basic',
            'main_ip' => 'shared'], $plan, 'the template and main IP are the product\'s alone');
        // a quantity of 0 is an option not taken: the product setting stands
        $plan = Plan::fromParams(self::product(['Disk quota' => '0', 'Web domains count' => '']), 'user', false);
        $this->assertSame(['web_domains' => 4, 'disk_mib' => 1024], $plan['limits']);
        $this->expectException(SettingError::class);
        $this->expectExceptionMessage('the configurable option "Disk quota" must be MiB');
        Plan::fromParams(self::product(['Disk quota' => '-5']), 'user', false);
    }

    public function testTheResellerOptionsOverrideOnlyForResellers(): void
    {
        $params = self::product(['Users count' => '30']);
        $this->assertSame(30, Plan::fromParams($params, 'reseller', false)['limits']['users']);
        $this->assertArrayNotHasKey('users', Plan::fromParams($params, 'user', false)['limits']);
    }

    public function testAnAppLandsOnItsPageAndAnythingElseOnTheDashboard(): void
    {
        $this->assertSame('email', ClientArea::page(['app' => 'Mail']));
        $this->assertSame('backup2.list', ClientArea::page(['app' => 'backups']));
        foreach (['', 'email', 'user.delete', '<x>', ['mail']] as $app) {
            $this->assertNull(ClientArea::page(['app' => $app]));
        }
        $this->assertCount(10, array_unique(array_column(ClientArea::APPS, 0)));
    }

    public function testAMetricThePanelDoesNotReportIsLeftOutNotZero(): void
    {
        $this->assertSame(['diskusage' => 1.5, 'web_domains' => 0, 'mailboxes' => 7],
            MetricSource::values(['disk_used_mib' => 1536, 'traffic_used_mib' => null, 'web_domains' => 0,
                'mail_domains' => null, 'mailboxes' => 7]));
    }

    public function testRemoteMetaDataIsRenderedFromEveryFormAndEscaped(): void
    {
        $meta = ['edition' => 'host', 'version' => '6.99<b>', 'accounts' => ['user' => 1, 'reseller' => 2]];
        foreach ([$meta, json_encode($meta), ['metaData' => $meta], (object) ['metaData' => json_encode($meta)]] as $remote) {
            $html = ServerPage::render(['remoteData' => $remote]);
            $this->assertStringContainsString('ISPmanager host, version 6.99&lt;b&gt;<br>Accounts: 1 user, 2 resellers', $html);
        }
        $this->assertSame('isphooks: not checked yet', ServerPage::render([]));
    }

    public function testTheStandInRendererRefusesToPrintUnescaped(): void
    {
        $this->assertSame('a &lt;b&gt; ok', StandInSmarty::render('a {$x|escape:\'html\'}{if !$y} ok{/if}',
            ['x' => '<b>']));
        $this->expectExceptionMessage('prints without |escape');
        StandInSmarty::render('{$x}', ['x' => '<b>']);
    }

    public function testTheShippedTemplateRendersInTheStandIn(): void
    {
        $template = (string) file_get_contents(dirname(__DIR__, 2)
            . '/integrations/whmcs/modules/servers/isphooks/templates/clientarea.tpl');
        $html = StandInSmarty::render($template, ['isphooks' => ['error' => '', 'updated' => '',
            'suspended' => '', 'meters' => [['label' => 'Disk', 'used' => '1 MiB', 'limit' => '', 'bar' => false,
                'percent' => '0', 'full' => false]], 'buttons' => [['label' => 'Mail', 'url' => 'x?a=1&b=2']]]]);
        $this->assertStringContainsString('href="x?a=1&amp;b=2"', $html);
        $this->assertStringNotContainsString('progress-bar', $html);
    }
}
