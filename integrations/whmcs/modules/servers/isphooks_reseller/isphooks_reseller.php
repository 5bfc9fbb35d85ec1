<?php
/**
 * WHMCS server module "isphooks_reseller": Reseller Account products on ISPmanager 6 through isphooks
 * (kind "reseller"). Every function is one signed isphooks request; see lib/Module.php.
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/../isphooks/lib/Module.php';

use IsphooksWhmcs\Module;

function isphooks_reseller_MetaData(): array
{
    return Module::reseller()->metaData();
}

function isphooks_reseller_ConfigOptions(): array
{
    return Module::reseller()->configOptions();
}

function isphooks_reseller_CreateAccount(array $params): string
{
    return Module::reseller()->createAccount($params);
}

function isphooks_reseller_SuspendAccount(array $params): string
{
    return Module::reseller()->suspendAccount($params);
}

function isphooks_reseller_UnsuspendAccount(array $params): string
{
    return Module::reseller()->unsuspendAccount($params);
}

function isphooks_reseller_TerminateAccount(array $params): string
{
    return Module::reseller()->terminateAccount($params);
}

function isphooks_reseller_ChangePackage(array $params): string
{
    return Module::reseller()->changePackage($params);
}

function isphooks_reseller_ChangePassword(array $params): string
{
    return Module::reseller()->changePassword($params);
}

function isphooks_reseller_TestConnection(array $params): array
{
    return Module::reseller()->testConnection($params);
}

function isphooks_reseller_ServiceSingleSignOn(array $params): array
{
    return Module::reseller()->serviceSingleSignOn($params);
}

function isphooks_reseller_AdminSingleSignOn(array $params): array
{
    return Module::reseller()->adminSingleSignOn($params);
}

function isphooks_reseller_UsageUpdate(array $params): string
{
    return Module::reseller()->usageUpdate($params);
}

function isphooks_reseller_ListAccounts(array $params): array
{
    return Module::reseller()->listAccounts($params);
}

function isphooks_reseller_AdminCustomButtonArray(): array
{
    return Module::reseller()->adminCustomButtonArray();
}

function isphooks_reseller_AdoptAccount(array $params): string
{
    return Module::reseller()->adoptAccount($params);
}

function isphooks_reseller_CheckAccount(array $params): string
{
    return Module::reseller()->adminTab()->check($params);
}

function isphooks_reseller_RepairAccount(array $params): string
{
    return Module::reseller()->adminTab()->repair($params);
}

function isphooks_reseller_AdminServicesTabFields(array $params): array
{
    return Module::reseller()->adminTab()->fields($params);
}

function isphooks_reseller_ClientArea(array $params): array
{
    return Module::reseller()->clientArea($params);
}

function isphooks_reseller_MetricProvider(array $params): object
{
    return Module::reseller()->metricProvider($params);
}

function isphooks_reseller_GetUserCount(array $params): array
{
    return Module::reseller()->serverPage()->userCount($params);
}

function isphooks_reseller_GetRemoteMetaData(array $params): array
{
    return Module::reseller()->serverPage()->remoteMetaData($params);
}

function isphooks_reseller_RenderRemoteMetaData(array $params): string
{
    return \IsphooksWhmcs\ServerPage::render($params);
}
