<?php
/**
 * Runs the WHMCS modules in php-cli, as WHMCS would, for the end-to-end tests: one module
 * function with its $params, a hook point (the modules' hooks.php loaded as WHMCS loads
 * it), or a local API command (a Module* command runs the module for a service of the
 * database, as an admin's Retry does).
 * stdin: {"module"?, "function"?, "params"?, "hook"?, "api"?: {"command", "values"},
 *         "db"?: {table: rows}, "broken"?: {table: error}, "tblhosting"?, "localapi"?}
 * stdout: {"result", "module_log", "localapi", "updates", "db", "tblhosting", "module_calls"}
 */

declare(strict_types=1);

ini_set('display_errors', 'stderr');
error_reporting(E_ALL);
set_error_handler(function (int $no, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $no, $file, $line);
});

require __DIR__ . '/standin.php';

$spec = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
date_default_timezone_set((string) ($spec['timezone'] ?? 'UTC')); // WHMCS's datetimes are local
$root = getenv('ISPHOOKS_WHMCS_ROOT') ?: dirname(__DIR__, 2) . '/integrations/whmcs';
WhmcsStandIn::$modulesRoot = $root;
WhmcsStandIn::$db = $spec['db'] ?? [];
if (isset($spec['tblhosting'])) {
    WhmcsStandIn::$db['tblhosting'] = $spec['tblhosting'];
}
WhmcsStandIn::$broken = $spec['broken'] ?? [];
WhmcsStandIn::$localApiAnswers = $spec['localapi'] ?? [];

// WHMCS loads every active server module and its hooks.php.
foreach (['isphooks', 'isphooks_reseller'] as $module) {
    if (is_file($root . '/modules/servers/' . $module . '/' . $module . '.php')) {
        require_once $root . '/modules/servers/' . $module . '/' . $module . '.php';
    }
    if (is_file($root . '/modules/servers/' . $module . '/hooks.php')) {
        require_once $root . '/modules/servers/' . $module . '/hooks.php';
    }
}

if (isset($spec['hook'])) {
    WhmcsStandIn::runHook((string) $spec['hook']);
    $result = null;
} elseif (isset($spec['api'])) {
    $result = localAPI((string) $spec['api']['command'], (array) ($spec['api']['values'] ?? []));
} else {
    $module = (string) $spec['module'];
    if (!preg_match('/^isphooks(_reseller)?$/', $module)) {
        fwrite(STDERR, "unknown module\n");
        exit(2);
    }
    $function = $module . '_' . $spec['function'];
    $result = isset($spec['params']) ? $function($spec['params']) : $function();
}

echo json_encode([
    'result' => $result,
    'module_log' => WhmcsStandIn::$moduleLog,
    'localapi' => WhmcsStandIn::$localApi,
    'updates' => WhmcsStandIn::$updates,
    'db' => WhmcsStandIn::$db,
    'tblhosting' => WhmcsStandIn::$db['tblhosting'] ?? [],
    'module_calls' => WhmcsStandIn::$moduleCalls,
], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
