// Key Vault for the app's secrets: RBAC authorization (no access policies) and soft delete. The app reads
// the secrets through Key Vault references resolved with its managed identity.
//
// No purge protection: the vault's name is fixed per subscription, environment and region, and a
// purge-protected vault keeps its name for the whole retention period after `azd down` (azd cannot purge
// it), so the next `azd up` of the same environment would fail. Every secret here also lives in the azd
// environment it came from, so purge protection would guard no only copy. The API refuses
// enablePurgeProtection: false ("the property does not accept false as its value", Microsoft.KeyVault
// type definitions, 2023-07-01), so it is left out.
param name string
param location string
param tags object
param logAnalyticsId string

@description('Secret name -> value. An empty value creates no secret (an optional secret that is not used).')
@secure()
param secrets object

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  //checkov:skip=CKV_AZURE_109:Flex Consumption without a virtual network resolves Key Vault references over the public endpoint; access is RBAC-only.
  //checkov:skip=CKV_AZURE_110:Purge protection would keep the vault's fixed name for 90 days after azd down and break the next azd up; every secret also lives in the azd environment.
  //checkov:skip=CKV_AZURE_42:Recoverable through soft delete (90 days); purge protection is left out for the reason in CKV_AZURE_110.
  //checkov:skip=CKV_AZURE_189:Same reason: public network access is needed without a virtual network; data-plane access is RBAC-only.
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for item in items(secrets): if (!empty(item.value)) {
    //checkov:skip=CKV_AZURE_41:These secrets are rotated by people (README "Deploy to Azure"); an expiry date would stop the app without warning.
    parent: vault
    name: item.key
    properties: {
      value: item.value
      contentType: 'text/plain'
    }
  }
]

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-logs'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
