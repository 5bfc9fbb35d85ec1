<?php
/**
 * Product settings (the seed's labels, in the seed's order) → isphooks request fields.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

final class Plan
{
    /** label => [plan.limits field or special name, unit] — configoption1..15, in this order. */
    public const OPTIONS = [
        'Package Name' => ['template', 'text'],
        'Traffic quota' => ['traffic_mib', 'mib'],
        'Db user count' => ['database_users', 'count'],
        'Web domains count' => ['web_domains', 'count'],
        'Email box count' => ['mailboxes', 'count'],
        'Memory limit' => ['memory_mib', 'mib'],
        'Email box quota' => ['mailbox_quota_mib', 'mib'],
        'Disk quota' => ['disk_mib', 'mib'],
        'Db count' => ['databases', 'count'],
        'FTP user count' => ['ftp_users', 'count'],
        'Email domains count' => ['mail_domains', 'count'],
        'CPU time' => ['cpu_time', 'count'],
        'Processes count limit' => ['processes', 'count'],
        'Main IP address type' => ['main_ip', 'choice'],
        'Username template' => ['username_template', 'text'],
    ];

    /** The reseller module's three limits, configoption16..18. */
    public const RESELLER_OPTIONS = [
        'Users count' => ['users', 'count'],
        'IPv4 addresses count' => ['ipv4_addresses', 'count'],
        'IPv6 addresses count' => ['ipv6_addresses', 'count'],
    ];

    public const MAIN_IP = ['shared', 'ipv4', 'ipv6'];
    private const MIB_PER = ['' => 1, 'm' => 1, 'mb' => 1, 'mib' => 1, 'g' => 1024, 'gb' => 1024,
        'gib' => 1024, 't' => 1048576, 'tb' => 1048576, 'tib' => 1048576];
    private const MAX_COUNT = 2147483647;

    /** @return array<string, array{0: string, 1: string}> label => [field, unit] for this kind */
    public static function options(string $kind): array
    {
        return $kind === 'reseller' ? self::OPTIONS + self::RESELLER_OPTIONS : self::OPTIONS;
    }

    /** WHMCS ConfigOptions: the labels as keys, in order. */
    public static function configOptions(string $kind): array
    {
        $fields = [];
        foreach (self::options($kind) as $label => [$field, $unit]) {
            $fields[$label] = match (true) {
                $field === 'template' => ['Type' => 'text', 'Size' => '25',
                    'Description' => 'ISPmanager template (required)'],
                $field === 'main_ip' => ['Type' => 'dropdown', 'Options' => implode(',', self::MAIN_IP),
                    'Default' => 'shared', 'Description' => 'dedicated addresses need the business edition'],
                $field === 'username_template' => ['Type' => 'text', 'Size' => '25',
                    'Description' => 'empty: the WHMCS username; else e.g. u{service_id} or {domain} (@ID@, @DOMAIN@ too)'],
                $unit === 'mib' => ['Type' => 'text', 'Size' => '10',
                    'Description' => 'MiB (or 2G); empty: from the template'],
                default => ['Type' => 'text', 'Size' => '10', 'Description' => 'empty: from the template'],
            };
        }
        return $fields;
    }

    /**
     * The `plan` of create/upgrade from `configoptionN`; empty limits are left to the template.
     * A configurable option named like a limit's product setting (`Disk quota`, `Web domains
     * count`, … and the reseller ones) overrides it: WHMCS passes a service's options by
     * name in `configoptions`, and calls ChangePackage when a client upgrades one. The
     * template, the main IP and the username template are the product's alone; `IP` and
     * `IPv6` are extra addresses made at creation only (Plan::ips).
     */
    public static function fromParams(array $params, string $kind, bool $forCreate): array
    {
        $plan = ['limits' => []];
        $index = 0;
        $chosen = is_array($params['configoptions'] ?? null) ? $params['configoptions'] : [];
        foreach (self::options($kind) as $label => [$field, $unit]) {
            $index++;
            $value = trim((string) ($params['configoption' . $index] ?? ''));
            $option = self::optionValue($chosen, $label);
            if ($option !== '' && !in_array($field, ['template', 'main_ip', 'username_template'], true)) {
                $value = $option;
                $label = ['configurable option', $label];
            }
            if ($field === 'template') {
                if ($value === '') {
                    throw new SettingError('the product setting "Package Name" (the ISPmanager template) is empty');
                }
                $plan['template'] = $value;
            } elseif ($field === 'main_ip') {
                if ($forCreate && $value !== '') {
                    $value = strtolower($value);
                    if (!in_array($value, self::MAIN_IP, true)) {
                        throw new SettingError('the product setting "Main IP address type" must be shared, ipv4 or ipv6');
                    }
                    $plan['main_ip'] = $value;
                }
            } elseif ($field === 'username_template') {
                if ($forCreate && $value !== '') {
                    $plan['username_template'] = self::usernameTemplate($value);
                }
            } elseif ($value !== '') {
                $plan['limits'][$field] = $unit === 'mib' ? self::mib($label, $value) : self::count($label, $value);
            }
        }
        if ($plan['limits'] === []) {
            unset($plan['limits']);
        }
        return $plan;
    }

    /** A configurable option's chosen value by its name, matched without regard to case or
     *  surrounding spaces: a quantity or a dropdown's option text such as `10G` or `5`. A
     *  quantity of 0 is an option the client did not take (WHMCS's quantity options start
     *  at 0): the product setting stands, never a limit of 0. */
    private static function optionValue(array $chosen, string $label): string
    {
        foreach ($chosen as $name => $value) {
            if (strcasecmp(trim((string) $name), $label) === 0 && (is_string($value) || is_int($value))) {
                $value = trim((string) $value);
                return preg_match('/^0+$/', $value) ? '' : $value;
            }
        }
        return '';
    }

    /** The old module's `@ID@` / `@DOMAIN@` become `{service_id}` / `{domain}`. */
    public static function usernameTemplate(string $template): string
    {
        return str_ireplace(['@ID@', '@DOMAIN@'], ['{service_id}', '{domain}'], trim($template));
    }

    /** Configurable options `IP` / `IPv6` (quantities) → `ips`, or null when both are 0. */
    public static function ips(array $params): ?array
    {
        $options = is_array($params['configoptions'] ?? null) ? $params['configoptions'] : [];
        $ips = [];
        foreach (['IP' => 'ipv4', 'IPv6' => 'ipv6'] as $name => $family) {
            $value = trim((string) ($options[$name] ?? ''));
            $ips[$family] = $value === '' ? 0 : self::count(['configurable option', $name], $value);
        }
        return $ips['ipv4'] === 0 && $ips['ipv6'] === 0 ? null : $ips;
    }

    /** @param string|array{0: string, 1: string} $label a product setting's label, or [kind, name] */
    private static function what(string|array $label): string
    {
        [$kind, $name] = is_array($label) ? $label : ['product setting', $label];
        return 'the ' . $kind . ' "' . $name . '"';
    }

    public static function count(string|array $label, string $value): int
    {
        if (!preg_match('/^\d{1,10}$/', $value) || (int) $value > self::MAX_COUNT) {
            throw new SettingError(self::what($label) . ' must be a whole number, or empty');
        }
        return (int) $value;
    }

    /** MiB, with an optional unit: `512`, `512M`, `2G`, `2 GiB`, `1T`. */
    public static function mib(string|array $label, string $value): int
    {
        if (!preg_match('/^(\d{1,10})\s*([a-z]*)$/i', $value, $m) || !isset(self::MIB_PER[strtolower($m[2])])) {
            throw new SettingError(self::what($label) . ' must be MiB (e.g. 1024 or 2G), or empty');
        }
        $mib = (int) $m[1] * self::MIB_PER[strtolower($m[2])];
        if ($mib > self::MAX_COUNT) {
            throw new SettingError(self::what($label) . ' is too large');
        }
        return $mib;
    }
}
