-- One database per Accord service (their tables share names); run once, on a new volume.
CREATE DATABASE accord_intake;
CREATE DATABASE accord_qualification;
CREATE DATABASE accord_supervision;
CREATE DATABASE accord_gateway;
