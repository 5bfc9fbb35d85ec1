<?php
declare(strict_types=1);

error_reporting(E_ALL);
require __DIR__ . '/standin.php';
require dirname(__DIR__, 2) . '/integrations/fossbilling/Isphooks.php';
require __DIR__ . '/signature.php';
require __DIR__ . '/Fakes.php';
