// The whole connector in Azure, deployed by `azd up` (README "Deploy to Azure"): a Flex Consumption
// function app running as a user-assigned managed identity, its storage (identity only, no keys), a Key
// Vault for every secret, and Application Insights on a Log Analytics workspace.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name: names the resource group and seeds every resource name.')
param environmentName string

// Regions that offer Flex Consumption, as Microsoft's Flex Consumption azd template lists them
// (Azure-Samples/functions-quickstart-python-http-azd, infra/main.bicep, November 2025), less its canary
// region eastus2euap. azd offers only these when it asks for a location (@metadata azd type 'location').
// Python versions differ by region: README "Deploy to Azure" shows how to check before choosing.
@minLength(1)
@description('Azure region of every resource (one that offers Flex Consumption).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group name; empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Where browsers and Dynamics reach the app; empty: https://<function app default host name>.')
param publicBaseUrl string = ''

@description('Python of the function app: 3.13 (as developed and tested), or 3.12 where 3.13 is not offered yet.')
@allowed([
  '3.12'
  '3.13'
])
param pythonVersion string = '3.13'

@description('Most instances Flex Consumption may run at once (each drains the invoice queue).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

// Plain settings (see shared/config.py).
param invoiceQueue string = 'invoice-push'
param referenceQueue string = 'reference-refresh'
param referenceRefreshSchedule string = '0 0 */6 * * *'
param xeroEventsQueue string = 'xero-events'
param installQueue string = 'dynamics-install'
param installKeyWaitSeconds string = '20'
param sweepSchedule string = '0 */5 * * * *'
param tablePrefix string = 'dxc'
param httpTimeoutSeconds string = '20'
param xeroClientId string
param msClientId string
param msTenant string = 'organizations'

@allowed([
  'smtp'
  'acs'
])
param emailMode string = 'smtp'
param emailFrom string
param smtpHost string = ''
param smtpPort string = '587'
param smtpUsername string = ''
param smtpStarttls string = 'true'
param acsEndpoint string = ''
@description('The paid plans\' Stripe prices, "starter:price_...,business:price_..." (python -m shared.billing.setup).')
param stripePriceIds string = ''
param billingGraceDays string = '7'

// Secrets: written into Key Vault only; the app settings carry Key Vault references.
@secure()
@minLength(1)
param xeroClientSecret string
@secure()
@minLength(1)
param msClientSecret string
@secure()
@minLength(1)
@description('"kid:base64key[,kid:base64key...]": the first encrypts, all decrypt (README: rotation).')
param tokenEncryptionKeys string
@secure()
@minLength(32)
param sessionSecret string
@secure()
@minLength(36)
@description('"kid:secret[,kid:secret...]": HMAC keys of stored webhook-key hashes; the first hashes new keys (README: rotation).')
param webhookKeySecrets string
@secure()
param smtpPassword string = ''
@secure()
param acsAccessKey string = ''
@secure()
param stripeSecretKey string = ''
@secure()
param stripeWebhookSecret string = ''
@secure()
@description('The webhook key of the Xero app (developer portal, Webhooks); empty: Xero webhooks are refused.')
param xeroWebhookKey string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-${resourceToken}'
var deploymentContainerName = 'app-package'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

// Writes and reads the deployment package for the platform, nothing else (app/rbac.bicep).
module deployIdentity 'core/identity.bicep' = {
  name: 'deploy-identity'
  scope: rg
  params: {
    name: 'id-deploy-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    queueNames: [
      invoiceQueue
      '${invoiceQueue}-backfill'
      referenceQueue
      xeroEventsQueue
      installQueue
    ]
    deploymentContainerName: deploymentContainerName
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module keyVault 'core/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    secrets: {
      'xero-client-secret': xeroClientSecret
      'ms-client-secret': msClientSecret
      'token-encryption-keys': tokenEncryptionKeys
      'session-secret': sessionSecret
      'webhook-key-secrets': webhookKeySecrets
      'smtp-password': smtpPassword
      'acs-access-key': acsAccessKey
      'stripe-secret-key': stripeSecretKey
      'stripe-webhook-secret': stripeWebhookSecret
      'xero-webhook-key': xeroWebhookKey
    }
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    deployPrincipalId: deployIdentity.outputs.principalId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    deployIdentityId: deployIdentity.outputs.id
    pythonVersion: pythonVersion
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: 2048
  }
}

// Key Vault references name the secret without a version: the app picks up a new version within a day,
// or at once on restart (README: rotation).
var secretUri = '${keyVault.outputs.uri}secrets'

// Every setting the app reads (shared/config.py SETTING_NAMES) plus the host's own; nothing else.
var appSettings = {
  // Host: storage through the managed identity. No connection string, no account key.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
  // The app's own Azure SDK clients (DefaultAzureCredential) pick the user-assigned identity by this id.
  AZURE_CLIENT_ID: identity.outputs.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  AzureWebJobsDisableHomepage: 'true'
  // The app (shared/config.py). AzureWebJobsStorage (a connection string) is deliberately absent.
  INVOICE_QUEUE: invoiceQueue
  REFERENCE_QUEUE: referenceQueue
  REFERENCE_REFRESH_SCHEDULE: referenceRefreshSchedule
  XERO_EVENTS_QUEUE: xeroEventsQueue
  INSTALL_QUEUE: installQueue
  INSTALL_KEY_WAIT_SECONDS: installKeyWaitSeconds
  SWEEP_SCHEDULE: sweepSchedule
  TABLE_PREFIX: tablePrefix
  PUBLIC_BASE_URL: !empty(publicBaseUrl) ? publicBaseUrl : 'https://${api.outputs.defaultHostName}'
  XERO_CLIENT_ID: xeroClientId
  XERO_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${secretUri}/xero-client-secret)'
  XERO_LOGIN_URL: 'https://login.xero.com'
  XERO_IDENTITY_URL: 'https://identity.xero.com'
  XERO_API_URL: 'https://api.xero.com'
  XERO_WEBHOOK_KEY: empty(xeroWebhookKey) ? '' : '@Microsoft.KeyVault(SecretUri=${secretUri}/xero-webhook-key)'
  MS_CLIENT_ID: msClientId
  MS_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${secretUri}/ms-client-secret)'
  MS_AUTHORITY_HOST: 'https://login.microsoftonline.com'
  MS_TENANT: msTenant
  DATAVERSE_DISCOVERY_URL: 'https://globaldisco.crm.dynamics.com'
  TLS_CA_BUNDLE: ''
  TOKEN_ENCRYPTION_KEYS: '@Microsoft.KeyVault(SecretUri=${secretUri}/token-encryption-keys)'
  SESSION_SECRET: '@Microsoft.KeyVault(SecretUri=${secretUri}/session-secret)'
  WEBHOOK_KEY_SECRETS: '@Microsoft.KeyVault(SecretUri=${secretUri}/webhook-key-secrets)'
  PWNED_PASSWORDS_URL: 'https://api.pwnedpasswords.com' // new passwords checked by k-anonymity
  HTTP_TIMEOUT_SECONDS: httpTimeoutSeconds
  XERO_MINUTE_SECONDS: '60' // Xero's rate window; only a sandbox on a faster clock differs
  EMAIL_MODE: emailMode
  EMAIL_FROM: emailFrom
  SMTP_HOST: smtpHost
  SMTP_PORT: smtpPort
  SMTP_USERNAME: smtpUsername
  SMTP_PASSWORD: empty(smtpPassword) ? '' : '@Microsoft.KeyVault(SecretUri=${secretUri}/smtp-password)'
  SMTP_STARTTLS: smtpStarttls
  ACS_ENDPOINT: acsEndpoint
  ACS_ACCESS_KEY: empty(acsAccessKey) ? '' : '@Microsoft.KeyVault(SecretUri=${secretUri}/acs-access-key)'
  STRIPE_SECRET_KEY: empty(stripeSecretKey) ? '' : '@Microsoft.KeyVault(SecretUri=${secretUri}/stripe-secret-key)'
  STRIPE_WEBHOOK_SECRET: empty(stripeWebhookSecret) ? '' : '@Microsoft.KeyVault(SecretUri=${secretUri}/stripe-webhook-secret)'
  STRIPE_API_BASE: 'https://api.stripe.com'
  STRIPE_PRICE_IDS: stripePriceIds
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: '300' // Stripe's libraries' default
  BILLING_GRACE_DAYS: billingGraceDays
}

module settings 'app/settings.bicep' = {
  name: 'settings'
  scope: rg
  // The identity's roles first. A new role assignment can still take minutes to take effect, so the first
  // start may see a Key Vault reference unresolved: GET /api/health names it (README "Deploy to Azure").
  dependsOn: [
    rbac
  ]
  params: {
    siteName: api.outputs.name
    appSettings: appSettings
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output PUBLIC_BASE_URL string = appSettings.PUBLIC_BASE_URL
output XERO_REDIRECT_URI string = '${appSettings.PUBLIC_BASE_URL}/oauth/xero/callback'
output DYNAMICS_REDIRECT_URI string = '${appSettings.PUBLIC_BASE_URL}/oauth/dynamics/callback'
output DYNAMICS_WEBHOOK_URL string = '${appSettings.PUBLIC_BASE_URL}/api/dynamics/webhook'
