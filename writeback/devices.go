package writeback

import (
	"context"
	"errors"
	"fmt"

	"github.com/idbridge/idbridge/connector"
)

// Object types the AD connector of device writeback declares (with
// connector/ldap: a TypeConfig of each name with the object class given).
const (
	// DeviceType holds msDS-Device objects, with the attributes of
	// DeviceAttributes.
	DeviceType = "device"
	// DeviceContainerType holds msDS-DeviceContainer objects: it is needed
	// only by PrepareDeviceContainer.
	DeviceContainerType = "deviceContainer"
)

// DeviceAttributes returns the msDS-Device attributes the device rule set
// writes: what Entra Connect's device writeback writes, less those
// Samba's schema (objectVersion 69) lacks.
func DeviceAttributes() []string {
	return []string{
		"displayName", "msDS-DeviceID", "msDS-DeviceOSType", "msDS-DeviceOSVersion", "msDS-IsEnabled",
		"msDS-RegisteredOwner", "altSecurityIdentities", "msDS-CloudAnchor",
	}
}

// ErrDeviceContainer is the error of PrepareDeviceContainer.
var ErrDeviceContainer = errors.New("writeback: device container not created")

// PrepareDeviceContainer creates the device container dn (an
// msDS-DeviceContainer, which AD's schema allows only directly under the
// domain: CN=RegisteredDevices,DC=contoso,DC=com by Entra Connect's
// convention) through dir, the AD connector, unless it exists. It is the
// part of Entra Connect's Initialize-ADSyncDeviceWriteback that creates
// the container; that cmdlet also creates the Device Registration Service
// configuration (CN=Device Registration Configuration,CN=Services in the
// configuration partition) and grants the connector account rights on the
// container, which an administrator does, or has done, apart.
//
// dir must declare DeviceContainerType (object class msDS-DeviceContainer)
// and have dn in its scope (connector/ldap: dn in Containers). Calling it
// again is harmless. A failure wraps ErrDeviceContainer and the
// connector's error (connector.ErrAccessDenied without the right to create
// it, connector.ErrInvalidObject when the schema refuses it).
func PrepareDeviceContainer(ctx context.Context, dir connector.Connector, dn string) error {
	res, err := dir.Export(ctx, []connector.Change{{Kind: connector.Add, Type: DeviceContainerType, DN: dn, Attrs: connector.Attributes{}}})
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("%d results for one change", len(res))
	}
	if err == nil {
		err = res[0].Err
	}
	if err == nil || errors.Is(err, connector.ErrAlreadyExists) {
		return nil
	}
	return fmt.Errorf("%w: %s: %w", ErrDeviceContainer, dn, err)
}
