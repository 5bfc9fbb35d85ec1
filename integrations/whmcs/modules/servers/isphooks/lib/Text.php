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

    public static function oneLine(string $text): string
    {
        return trim((string) preg_replace('/\s+/', ' ', $text));
    }
}
