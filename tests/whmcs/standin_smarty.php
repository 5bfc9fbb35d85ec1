<?php
/**
 * The stand-in's page renderer: the part of Smarty (the template engine of WHMCS's client
 * area) the module's templates use — `{* comments *}`, `{$var.key|escape:'html'}`,
 * `{if $x}` / `{if !$x}` / `{else}` / `{/if}`, `{foreach $list as $item}` / `{/foreach}` —
 * with Smarty's meaning. Stricter than Smarty on purpose: printing a variable without
 * `|escape:'html'` is an error, so a template that could print a panel's text raw fails its
 * test instead of shipping; so is any other tag.
 */

declare(strict_types=1);

final class StandInSmarty
{
    /** @param array<string, mixed> $vars */
    public static function render(string $template, array $vars): string
    {
        $template = (string) preg_replace('/\{\*.*?\*\}/s', '', $template);
        $parts = preg_split('/(\{[^{}]*\})/', $template, -1, PREG_SPLIT_DELIM_CAPTURE | PREG_SPLIT_NO_EMPTY);
        $position = 0;
        $tree = self::parse($parts, $position, null);
        return self::run($tree, $vars);
    }

    /** @return list<array<string, mixed>> */
    private static function parse(array $parts, int &$position, ?string $closing): array
    {
        $nodes = [];
        while ($position < count($parts)) {
            $part = $parts[$position++];
            if (!str_starts_with($part, '{')) {
                $nodes[] = ['text' => $part];
                continue;
            }
            $tag = trim(substr($part, 1, -1));
            if ($tag === '/if' || $tag === '/foreach' || $tag === 'else') {
                if ($closing === null || ($tag !== 'else' && $tag !== '/' . $closing)) {
                    throw new \RuntimeException('template: unexpected {' . $tag . '}');
                }
                $nodes[] = ['end' => $tag];
                return $nodes;
            }
            if (preg_match('/^if (!?)\$([\w.]+)$/', $tag, $m)) {
                $then = self::parse($parts, $position, 'if');
                $end = array_pop($then)['end'] ?? throw new \RuntimeException('template: {if} not closed');
                $else = $end === 'else' ? self::parse($parts, $position, 'if') : [['end' => '/if']];
                array_pop($else);
                $nodes[] = ['if' => $m[2], 'not' => $m[1] === '!', 'then' => $then, 'else' => $else];
            } elseif (preg_match('/^foreach \$([\w.]+) as \$(\w+)$/', $tag, $m)) {
                $body = self::parse($parts, $position, 'foreach');
                if ((array_pop($body)['end'] ?? '') !== '/foreach') {
                    throw new \RuntimeException('template: {foreach} not closed');
                }
                $nodes[] = ['foreach' => $m[1], 'as' => $m[2], 'body' => $body];
            } elseif (preg_match('/^\$([\w.]+)\|escape:\'html\'$/', $tag, $m)) {
                $nodes[] = ['print' => $m[1]];
            } elseif (preg_match('/^\$/', $tag)) {
                throw new \RuntimeException('template: {' . $tag . '} prints without |escape:\'html\'');
            } else {
                throw new \RuntimeException('template: unsupported tag {' . $tag . '}');
            }
        }
        if ($closing !== null) {
            throw new \RuntimeException('template: {' . $closing . '} not closed');
        }
        return $nodes;
    }

    private static function run(array $nodes, array $vars): string
    {
        $out = '';
        foreach ($nodes as $node) {
            if (isset($node['text'])) {
                $out .= $node['text'];
            } elseif (isset($node['print'])) {
                $value = self::lookup($node['print'], $vars);
                if (is_array($value) || is_object($value)) {
                    throw new \RuntimeException('template: $' . $node['print'] . ' is not a value');
                }
                $out .= htmlspecialchars((string) $value, ENT_QUOTES, 'UTF-8');
            } elseif (isset($node['if'])) {
                $value = self::lookup($node['if'], $vars);
                $true = !empty($value);
                $out .= self::run(($true xor $node['not']) ? $node['then'] : $node['else'], $vars);
            } elseif (isset($node['foreach'])) {
                foreach ((array) self::lookup($node['foreach'], $vars) as $item) {
                    $out .= self::run($node['body'], [$node['as'] => $item] + $vars);
                }
            }
        }
        return $out;
    }

    private static function lookup(string $path, array $vars): mixed
    {
        $value = $vars;
        foreach (explode('.', $path) as $key) {
            if (!is_array($value) || !array_key_exists($key, $value)) {
                return null; // Smarty prints an unset variable as nothing
            }
            $value = $value[$key];
        }
        return $value;
    }
}
