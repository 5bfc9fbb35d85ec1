<?php
declare(strict_types=1);

error_reporting(E_ALL);
require __DIR__ . '/standin.php';
require dirname(__DIR__, 2) . '/integrations/whmcs/modules/servers/isphooks/isphooks.php';
require dirname(__DIR__, 2) . '/integrations/whmcs/modules/servers/isphooks_reseller/isphooks_reseller.php';
require dirname(__DIR__, 2) . '/integrations/whmcs/modules/servers/isphooks/hooks.php';
