/*
 * model: the threat-model document shared by mapping, diff, store and the
 * commands. A model is one VPC's components, data flows and trust
 * boundaries. It is kept as a jansson document in one documented JSON shape
 * (docs/model-schema.md) because it is also the import/export format and
 * the stored form: one representation, no translation layers.
 *
 * Deviation from STYLE.md (jansson only in providers/aws): mapping and diff
 * evaluate attribute paths inside AWS Config documents, which needs a JSON
 * tree; jansson is that tree. No I/O happens here.
 *
 * Model document (version 1):
 * {
 *   "schema": "driftsync.model/1",
 *   "account_id": "111111111111", "region": "us-east-1", "vpc_id": "vpc-...",
 *   "name": "prod-vpc",
 *   "components": [
 *     {"key": "arn:aws:ec2:...:instance/i-...",   stable id: ARN, else resourceType/resourceId;
 *                                                  designed components: "design:<type>:<name>"
 *      "type": "AWS EC2", "name": "web-1", "role": "process",
 *      "resource_type": "AWS::EC2::Instance", "resource_id": "i-...",   (absent when designed)
 *      "boundary": "subnet-...",                   innermost trust boundary key
 *      "attributes": {"instance_type": "t3.micro", "public_ip": null, ...}}
 *   ],
 *   "flows": [{"from": KEY, "to": KEY, "label": "HTTPS 443", "protocol": "tcp", "port": 443}],
 *   "boundaries": [{"key": "vpc-...", "type": "vpc", "name": "prod-vpc", "parent": null},
 *                  {"key": "subnet-...", "type": "public-subnet", "name": "...", "parent": "vpc-..."}]
 * }
 * Components, flows and boundaries are sorted by key (flows by from, to,
 * label) so equal models serialise to equal bytes.
 */
#pragma once

#define MODEL_SCHEMA "driftsync.model/1"

/* DFD roles */
#define MODEL_ROLE_PROCESS    "process"
#define MODEL_ROLE_DATA_STORE "data_store"
#define MODEL_ROLE_EXTERNAL   "external_interactor"
#define MODEL_ROLE_BOUNDARY   "boundary"
