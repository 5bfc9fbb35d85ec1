<?php
/** What the isphooks modules read from WHMCS's module parameters. */

declare(strict_types=1);

namespace IsphooksWhmcs;

require_once __DIR__ . '/Client.php';

final class Params
{
    /** The body fields of an account action. */
    public static function account(array $params, string $kind): array
    {
        return ['service_id' => self::serviceId($params), 'server' => self::server($params),
            'username' => self::username($params), 'kind' => $kind];
    }

    /** The ISPmanager server's name in the isphooks config: the WHMCS server's Username. */
    public static function server(array $params): string
    {
        $server = trim((string) ($params['serverusername'] ?? ''));
        if ($server === '') {
            throw new SettingError('the server Username is empty: set it to the server\'s name in the isphooks config');
        }
        return $server;
    }

    public static function serviceId(array $params): string
    {
        $id = (string) ($params['serviceid'] ?? '');
        if ($id === '') {
            throw new SettingError('no service id in the module parameters');
        }
        return $id;
    }

    public static function username(array $params): string
    {
        $username = trim((string) ($params['username'] ?? ''));
        if ($username === '') {
            throw new SettingError('the service has no username, and the product no "Username template"');
        }
        return $username;
    }
}
