# The AWS provider pointed at a local emulator. Emulators accept any credentials; these
# fixed ones make sure a real account is never touched by accident.
provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true

  endpoints {
    apigatewayv2   = var.endpoint_url
    cloudwatch     = var.endpoint_url
    cloudwatchlogs = var.endpoint_url
    dynamodb       = var.endpoint_url
    events         = var.endpoint_url
    iam            = var.endpoint_url
    kinesis        = var.endpoint_url
    kms            = var.endpoint_url
    lambda         = var.endpoint_url
    s3             = var.endpoint_url
    sns            = var.endpoint_url
    sqs            = var.endpoint_url
    sts            = var.endpoint_url
  }
}

module "stack" {
  source = "../.."

  name_prefix = var.name_prefix
  tags        = { Environment = "local-emulator" }

  # The demo and the tests upload objects; the emulator's bucket goes with the stack.
  bucket_force_destroy = true
}
