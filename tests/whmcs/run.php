<?php
/**
 * Runs one WHMCS module function in php-cli, as WHMCS would, for the end-to-end tests.
 * stdin: {"module", "function", "params", "tblhosting"?, "localapi"?}
 * stdout: {"result", "module_log", "localapi", "updates", "tblhosting"} as JSON.
 */

declare(strict_types=1);

ini_set('display_errors', 'stderr');
error_reporting(E_ALL);
set_error_handler(function (int $no, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $no, $file, $line);
});

require __DIR__ . '/standin.php';

$spec = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$module = (string) $spec['module'];
if (!preg_match('/^isphooks(_reseller)?$/', $module)) {
    fwrite(STDERR, "unknown module\n");
    exit(2);
}
$root = getenv('ISPHOOKS_WHMCS_ROOT') ?: dirname(__DIR__, 2) . '/integrations/whmcs';
require $root . '/modules/servers/' . $module . '/' . $module . '.php';

WhmcsStandIn::$tblhosting = $spec['tblhosting'] ?? [];
WhmcsStandIn::$localApiAnswers = $spec['localapi'] ?? [];
$function = $module . '_' . $spec['function'];
$result = isset($spec['params']) ? $function($spec['params']) : $function();

echo json_encode([
    'result' => $result,
    'module_log' => WhmcsStandIn::$moduleLog,
    'localapi' => WhmcsStandIn::$localApi,
    'updates' => WhmcsStandIn::$updates,
    'tblhosting' => WhmcsStandIn::$tblhosting,
], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
