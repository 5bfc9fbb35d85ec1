<?php
/**
 * WHMCS server module "isphooks": Hosting Account products on ISPmanager 6 through isphooks
 * (kind "user"). Every function is one signed isphooks request; see lib/Module.php.
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/Module.php';

use IsphooksWhmcs\Module;

function isphooks_MetaData(): array
{
    return Module::user()->metaData();
}

function isphooks_ConfigOptions(): array
{
    return Module::user()->configOptions();
}

function isphooks_CreateAccount(array $params): string
{
    return Module::user()->createAccount($params);
}

function isphooks_SuspendAccount(array $params): string
{
    return Module::user()->suspendAccount($params);
}

function isphooks_UnsuspendAccount(array $params): string
{
    return Module::user()->unsuspendAccount($params);
}

function isphooks_TerminateAccount(array $params): string
{
    return Module::user()->terminateAccount($params);
}

function isphooks_ChangePackage(array $params): string
{
    return Module::user()->changePackage($params);
}

function isphooks_ChangePassword(array $params): string
{
    return Module::user()->changePassword($params);
}

function isphooks_TestConnection(array $params): array
{
    return Module::user()->testConnection($params);
}

function isphooks_ServiceSingleSignOn(array $params): array
{
    return Module::user()->serviceSingleSignOn($params);
}

function isphooks_AdminSingleSignOn(array $params): array
{
    return Module::user()->adminSingleSignOn($params);
}

function isphooks_UsageUpdate(array $params): string
{
    return Module::user()->usageUpdate($params);
}

function isphooks_ListAccounts(array $params): array
{
    return Module::user()->listAccounts($params);
}

function isphooks_AdminCustomButtonArray(): array
{
    return Module::user()->adminCustomButtonArray();
}

function isphooks_AdoptAccount(array $params): string
{
    return Module::user()->adoptAccount($params);
}

function isphooks_CheckAccount(array $params): string
{
    return Module::user()->adminTab()->check($params);
}

function isphooks_RepairAccount(array $params): string
{
    return Module::user()->adminTab()->repair($params);
}

function isphooks_AdminServicesTabFields(array $params): array
{
    return Module::user()->adminTab()->fields($params);
}

function isphooks_ClientArea(array $params): array
{
    return Module::user()->clientArea($params);
}

function isphooks_MetricProvider(array $params): object
{
    return Module::user()->metricProvider($params);
}

function isphooks_GetUserCount(array $params): array
{
    return Module::user()->serverPage()->userCount($params);
}

function isphooks_GetRemoteMetaData(array $params): array
{
    return Module::user()->serverPage()->remoteMetaData($params);
}

function isphooks_RenderRemoteMetaData(array $params): string
{
    return \IsphooksWhmcs\ServerPage::render($params);
}
