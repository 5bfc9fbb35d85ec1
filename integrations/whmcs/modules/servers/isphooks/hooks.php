<?php
/**
 * Hooks of the isphooks WHMCS modules. WHMCS loads a server module's hooks.php on every page
 * load and cron run (developers.whmcs.com/hooks/module-hooks; a hooks.php added after the
 * module was activated is picked up once a product's Module Settings are saved again).
 *
 * AfterCronJob: failed isphooks and isphooks_reseller actions retry themselves while WHMCS
 * still wants them (lib/Retries.php). Delete this file to switch automatic retries off.
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/Retries.php';

add_hook('AfterCronJob', 1, function (array $vars): void {
    \IsphooksWhmcs\Retries::afterCron();
});
