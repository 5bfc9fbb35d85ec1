{* isphooks client area (ClientArea in lib/ClientArea.php): disk, traffic and the account's
   objects from what Usage Update last stored (no panel call per page view), and a login
   button per panel page, hidden while the service is suspended. Every value is escaped. *}
<div class="isphooks-clientarea">
{if $isphooks.error}
    <div class="alert alert-warning">{$isphooks.error|escape:'html'}</div>
{else}
    <table class="table table-sm isphooks-usage">
    {foreach $isphooks.meters as $meter}
        <tr>
            <td>{$meter.label|escape:'html'}</td>
            <td>{$meter.used|escape:'html'}{if $meter.limit} / {$meter.limit|escape:'html'}{/if}</td>
            <td>{if $meter.bar}<div class="progress"><div class="progress-bar{if $meter.full} bg-danger{/if}" role="progressbar" style="width: {$meter.percent|escape:'html'}%" aria-valuenow="{$meter.percent|escape:'html'}" aria-valuemin="0" aria-valuemax="100">{$meter.percent|escape:'html'}%</div></div>{/if}</td>
        </tr>
    {/foreach}
    </table>
    {if $isphooks.updated}<p class="text-muted small">{$isphooks.updated|escape:'html'}</p>{/if}
    {if $isphooks.suspended}
    <div class="alert alert-info">{$isphooks.suspended|escape:'html'}</div>
    {else}
    <div class="isphooks-logins">
        {foreach $isphooks.buttons as $button}
        <a class="btn btn-default btn-sm" href="{$button.url|escape:'html'}" target="_blank" rel="noopener">{$button.label|escape:'html'}</a>
        {/foreach}
    </div>
    {/if}
{/if}
</div>
