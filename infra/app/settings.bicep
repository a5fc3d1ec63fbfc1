// The function app's settings, applied as one block (replacing any set by hand). main.bicep builds the
// list; tests/unit/test_infra_settings.py checks it against shared/config.py.
param siteName string

@description('App settings, name -> value. Secrets are Key Vault references, never values.')
param appSettings object

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: siteName
}

// checkov reads every sites/config resource as the 'web' configuration; this one holds name/value pairs
// only, so the checks below cannot apply to it (api.bicep sets the site's web configuration).
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  //checkov:skip=CKV_AZURE_13:appsettings holds name/value pairs; the portal signs users in itself and App Service Authentication would block Dynamics webhooks.
  //checkov:skip=CKV_AZURE_63:appsettings holds name/value pairs; HTTP logging is an IIS log setting of the 'web' config (function logs go to Application Insights).
  //checkov:skip=CKV_AZURE_65:appsettings holds name/value pairs; detailed error pages are an IIS setting of the 'web' config.
  //checkov:skip=CKV_AZURE_66:appsettings holds name/value pairs; failed request tracing is an IIS setting of the 'web' config.
  //checkov:skip=CKV_AZURE_80:appsettings holds name/value pairs; the app runs Python 3.13, not .NET Framework.
  //checkov:skip=CKV_AZURE_88:appsettings holds name/value pairs; Flex Consumption deploys from a blob container, not Azure Files.
  //checkov:skip=CKV_AZURE_222:appsettings holds name/value pairs; public access is decided on the site (api.bicep).
  parent: site
  name: 'appsettings'
  properties: appSettings
}
