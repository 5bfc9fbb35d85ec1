<?php
/**
 * Hooks of the isphooks WHMCS modules. WHMCS loads a server module's hooks.php on every page
 * load and cron run (developers.whmcs.com/hooks/module-hooks; a hooks.php added after the
 * module was activated is picked up once a product's Module Settings are saved again).
 *
 * AfterCronJob: failed isphooks and isphooks_reseller actions retry themselves while WHMCS
 * still wants them; a row it no longer wants is resolved only once the service's "Repair to
 * WHMCS state" made the panel match WHMCS (lib/Retries.php).
 * DailyCronJob: the drift report — each isphooks server's Active and Suspended services
 * compared with the panel by `reconcile` without `apply`; differences go to the activity log
 * and one open To-Do item per server and difference set. It never repairs (lib/Drift.php).
 * Delete this file to switch both off.
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/Drift.php';
require_once __DIR__ . '/lib/Retries.php';

add_hook('AfterCronJob', 1, function (array $vars): void {
    \IsphooksWhmcs\Retries::afterCron();
});

add_hook('DailyCronJob', 1, function (array $vars): void {
    \IsphooksWhmcs\Drift::daily();
});
