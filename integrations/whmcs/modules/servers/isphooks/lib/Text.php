<?php
/** Text that reaches a WHMCS page or log line. */

declare(strict_types=1);

namespace IsphooksWhmcs;

final class Text
{
    /** Anything from isphooks or a panel shown on a WHMCS page is HTML-escaped: a panel
     *  message carrying `<img onerror=…>` must stay text in the admin area. */
    public static function html(string $text): string
    {
        return htmlspecialchars($text, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
    }

    /**
     * Free text for isphooks (a suspension reason): UTF-8 passed through as it is, with only
     * what isphooks refuses taken out (its interface, "Text"): control characters (C0, DEL,
     * C1), line and paragraph separators, tabs, and format characters such as the bidi
     * controls (the joiners U+200C and U+200D stay: scripts need them), plus lone
     * surrogates, private-use and unassigned code points. Line breaks and tabs become one
     * space; the result is trimmed and cut to `$limit` code points. Invalid UTF-8 bytes
     * become U+FFFD first, so nothing is lost silently and nothing invalid is sent.
     */
    public static function freeText(string $text, int $limit = 200): string
    {
        $text = htmlspecialchars_decode(
            htmlspecialchars($text, ENT_NOQUOTES | ENT_SUBSTITUTE, 'UTF-8'), ENT_NOQUOTES);
        $text = (string) preg_replace('/[\t\n\v\f\r\x{85}\x{2028}\x{2029}]+/u', ' ', $text);
        $text = (string) preg_replace('/(?![\x{200C}\x{200D}])[\p{C}\p{Zl}\p{Zp}]/u', '', $text);
        $text = trim($text, " ");
        if (preg_match('/^.{' . ($limit + 1) . '}/us', $text) === 1) {
            preg_match('/^.{' . $limit . '}/us', $text, $cut);
            $text = rtrim($cut[0], " ");
        }
        return $text;
    }

    public static function oneLine(string $text): string
    {
        return trim((string) preg_replace('/\s+/', ' ', $text));
    }
}
