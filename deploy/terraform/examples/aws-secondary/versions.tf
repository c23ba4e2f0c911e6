terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
  # Keep state remote and locked in real use, e.g.:
  # backend "s3" { bucket = "my-tf-state" key = "commerce/production.tfstate" region = "eu-west-1" use_lockfile = true }
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = merge(var.tags, { Project = "commerce-platform", Environment = var.environment })
  }
}
