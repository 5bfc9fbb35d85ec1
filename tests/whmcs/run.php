<?php
/**
 * Runs the WHMCS modules in php-cli, as WHMCS would, for the end-to-end tests: one module
 * function with its $params (or, with "serviceid" / "serverid", the parameters WHMCS builds
 * for that service or, for a server function, that server; "params" then add to them), a hook point (the modules' hooks.php loaded as WHMCS loads
 * it), a local API command (a Module* command runs the module for a service of the
 * database, as an admin's Retry does), a client-area page view of a service ("page"), a
 * client's single sign-on from a page button ("sso": the module's ServiceSingleSignOn with
 * the request's `app`), or WHMCS's usage billing asking the module's MetricProvider
 * ("metrics": {"module", "serverid", "call": metrics | usage | tenantUsage, "tenant"?}).
 * stdin: {"module"?, "function"?, "params"?, "serviceid"?, "serverid"?, "hook"?, "api"?: {"command", "values"},
 *         "page"?: serviceid, "sso"?: {"serviceid", "app"}, "metrics"?: {…},
 *         "db"?: {table: rows}, "broken"?: {table: error}, "tblhosting"?, "localapi"?}
 * stdout: {"result", "module_log", "localapi", "updates", "db", "tblhosting", "module_calls",
 *          "schemas", "reads"}
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
WhmcsStandIn::load(($spec['db'] ?? []) + (isset($spec['tblhosting']) ? ['tblhosting' => $spec['tblhosting']] : []));
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
} elseif (isset($spec['page'])) {
    $result = WhmcsStandIn::clientAreaPage((int) $spec['page']);
} elseif (isset($spec['sso'])) {
    $_GET['app'] = $_REQUEST['app'] = (string) ($spec['sso']['app'] ?? ''); // the button's URL
    $params = WhmcsStandIn::moduleParams((int) $spec['sso']['serviceid']);
    $result = ($params['moduletype'] . '_ServiceSingleSignOn')($params);
} elseif (isset($spec['metrics'])) {
    $result = WhmcsStandIn::metrics((array) $spec['metrics']);
} else {
    $module = (string) $spec['module'];
    if (!preg_match('/^isphooks(_reseller)?$/', $module)) {
        fwrite(STDERR, "unknown module\n");
        exit(2);
    }
    $function = $module . '_' . $spec['function'];
    $params = match (true) {
        isset($spec['serviceid']) => ($spec['params'] ?? []) + WhmcsStandIn::moduleParams((int) $spec['serviceid']),
        isset($spec['serverid']) => ($spec['params'] ?? []) + WhmcsStandIn::serverParams((int) $spec['serverid']),
        default => $spec['params'] ?? null,
    };
    $result = $params !== null ? $function($params) : $function();
}

echo json_encode([
    'result' => $result,
    'module_log' => WhmcsStandIn::$moduleLog,
    'localapi' => WhmcsStandIn::$localApi,
    'updates' => WhmcsStandIn::$updates,
    'db' => WhmcsStandIn::$db,
    'tblhosting' => WhmcsStandIn::$db['tblhosting'] ?? [],
    'module_calls' => WhmcsStandIn::$moduleCalls,
    'schemas' => WhmcsStandIn::$schemas,
    'reads' => WhmcsStandIn::$reads,
], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
